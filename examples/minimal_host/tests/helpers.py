"""Helpers of the example host's tests: this project's objects for the adapter contract."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from surveys.models import Review, Submission, Survey, Team


class SurveysObjects:
    """This project's objects for integrations.testing.adapter_contract_check."""

    def __init__(self) -> None:
        self.made = 0

    def _next(self) -> int:
        self.made += 1
        return self.made

    def account(self) -> Team:
        return Team.objects.create(name=f"Team {self._next()}")

    def chat(self, account: Any, *, completed: bool) -> Submission:
        survey = Survey.objects.create(team=account, title=f"Survey {self._next()}")
        return Submission.objects.create(
            survey=survey, reference=f"ref-{self._next()}", submitted_at=timezone.now() if completed else None
        )

    def complete(self, chat: Any) -> None:
        chat.submitted_at = timezone.now()
        chat.points = 7
        chat.save()

    def feedback(self, chat: Any, *, text: str) -> Review:
        return Review.objects.create(submission=chat, question="overall", note=text)

    def change_feedback(self, feedback: Any, *, text: str) -> None:
        feedback.note = text
        feedback.save()

    def admin(self, account: Any, *, email: str) -> AbstractBaseUser:
        user = get_user_model().objects.create_user(username=f"admin-{self._next()}", email=email)
        account.admins.add(user)
        return user

    def member(self, account: Any) -> AbstractBaseUser:
        user = get_user_model().objects.create_user(username=f"member-{self._next()}", email="member@example.com")
        account.members.add(user)
        return user
