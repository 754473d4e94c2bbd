"""What the integrations app needs to know about this project: a subclass of its BaseAdapter."""

from __future__ import annotations

from typing import Any

from django.db import models

from integrations.adapter import BaseAdapter, ChatFacts, FeedbackFacts, User

from .models import Survey, Team


class SurveysAdapter(BaseAdapter):
    chat_model = "surveys.Submission"
    feedback_model = "surveys.Review"
    chat_fields = ("survey", "reference", "submitted_at", "points")
    feedback_fields = ("submission", "question", "note")

    def chat_is_completed(self, chat: models.Model) -> bool:
        return getattr(chat, "submitted_at", None) is not None

    def chat_facts(self, chat: models.Model) -> ChatFacts:
        submission: Any = chat
        team_id = Survey.objects.filter(pk=submission.survey_id).values_list("team_id", flat=True).get()
        return ChatFacts(account_id=team_id, flow_id=submission.survey_id, identifier=submission.reference)

    def chat_score(self, chat: models.Model) -> int | float | None:
        points: int | None = getattr(chat, "points", None)
        return points

    def feedback_text(self, feedback: models.Model) -> str:
        return str(getattr(feedback, "note", ""))

    def feedback_facts(self, feedback: models.Model) -> FeedbackFacts:
        review: Any = feedback
        return FeedbackFacts(chat=self.chat_facts(review.submission), prompt_name=review.question)

    def account_admin_emails(self, account_id: int) -> list[str]:
        team = Team.objects.get(pk=account_id)
        return sorted({user.email for user in team.admins.all() if user.email})

    def account_for_admin(self, user: User) -> models.Model | None:
        if not user.is_authenticated:
            return None
        return Team.objects.filter(admins=user).order_by("id").first()
