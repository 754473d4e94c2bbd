"""What the integrations app needs to know about this project: the notifications it sends, and its admins."""

from __future__ import annotations

from typing import Any

from django.db import models

from integrations.adapter import BaseAdapter, User
from integrations.catalog import Built, EventType, OnDelete, OnSave

from .models import Survey, Team

# The surveyId of every example "Send example" sends: no real survey has it.
EXAMPLE_SURVEY_ID = 0

_SURVEY_ID = {"type": "integer", "description": "The survey's id."}
_REFERENCE = {"type": "string", "description": "The submission's reference."}


def _team_id(submission: Any) -> int:
    return int(Survey.objects.filter(pk=submission.survey_id).values_list("team_id", flat=True).get())


def submission_data(submission: Any) -> Built:
    return Built(
        account_id=_team_id(submission), data={"surveyId": submission.survey_id, "reference": submission.reference}
    )


def submitted(submission: Any) -> Built:
    built = submission_data(submission)
    return Built(account_id=built.account_id, data={**built.data, "points": submission.points})


def is_submitted(submission: Any) -> bool:
    return submission.submitted_at is not None


def reviewed(review: Any) -> Built:
    built = submission_data(review.submission)
    return Built(account_id=built.account_id, data={**built.data, "question": review.question, "note": review.note})


SUBMITTED = EventType(
    name="submission.submitted",
    title="Submission submitted",
    description="Someone submitted their answers to a survey.",
    data={"surveyId": _SURVEY_ID, "reference": _REFERENCE, "points": {"type": ["integer", "null"]}},
    example={"surveyId": 4, "reference": "r-1", "points": 9},
    sent_example={"surveyId": EXAMPLE_SURVEY_ID, "reference": "r-1", "points": 9},
    trigger=OnSave(
        model="surveys.Submission", build=submitted, state=is_submitted, fields=("submitted_at",), when=is_submitted
    ),
)
REVIEWED = EventType(
    name="review.noted",
    title="Review noted",
    description="A reviewer wrote, or changed, a note on one question of a submission.",
    data={"surveyId": _SURVEY_ID, "reference": _REFERENCE, "question": {"type": "string"}, "note": {"type": "string"}},
    example={"surveyId": 4, "reference": "r-1", "question": "overall", "note": "Great"},
    sent_example={"surveyId": EXAMPLE_SURVEY_ID, "reference": "r-1", "question": "overall", "note": "Great"},
    trigger=OnSave(model="surveys.Review", build=reviewed, state=lambda review: review.note, fields=("note",)),
)
WITHDRAWN = EventType(
    name="submission.withdrawn",
    title="Submission withdrawn",
    description="A submission was deleted.",
    data={"surveyId": _SURVEY_ID, "reference": _REFERENCE},
    example={"surveyId": 4, "reference": "r-1"},
    sent_example={"surveyId": EXAMPLE_SURVEY_ID, "reference": "r-1"},
    trigger=OnDelete(model="surveys.Submission", build=submission_data),
)


class SurveysAdapter(BaseAdapter):
    event_types = (SUBMITTED, REVIEWED, WITHDRAWN)
    subject_fields = ("surveyId", "reference")
    example_note = f'An example\'s "surveyId" is always {EXAMPLE_SURVEY_ID}, which no real survey has.'

    def account_admin_emails(self, account_id: int) -> list[str]:
        team = Team.objects.get(pk=account_id)
        return sorted({user.email for user in team.admins.all() if user.email})

    def account_for_admin(self, user: User) -> models.Model | None:
        if not user.is_authenticated:
            return None
        return Team.objects.filter(admins=user).order_by("id").first()
