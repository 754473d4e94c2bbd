"""Helpers of the example host's tests: this project's objects for the adapter contract."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from surveys.models import Review, Submission, Survey, Team


class SurveysObjects:
    """This project's objects for the adapter's contract and the app's tests that run on any host."""

    def __init__(self) -> None:
        self.made = 0

    def _next(self) -> int:
        self.made += 1
        return self.made

    def account(self) -> Team:
        return Team.objects.create(name=f"Team {self._next()}")

    def submission(self, account: Any) -> Submission:
        survey = Survey.objects.create(team=account, title=f"Survey {self._next()}")
        return Submission.objects.create(survey=survey, reference=f"ref-{self._next()}")

    def cause(self, event_type: str, account: Any) -> Any:
        submission = self.submission(account)
        if event_type == "submission.submitted":
            submission.submitted_at, submission.points = timezone.now(), 7
            submission.save()
            return submission
        if event_type == "review.noted":
            return Review.objects.create(submission=submission, question="overall", note="Well done")
        if event_type == "submission.withdrawn":
            submission.delete()
            return submission
        raise ValueError(f"Survey Desk sends no {event_type!r}")

    def admin(self, account: Any, *, email: str) -> AbstractBaseUser:
        user = get_user_model().objects.create_user(username=f"admin-{self._next()}", email=email)
        account.admins.add(user)
        return user

    def member(self, account: Any) -> AbstractBaseUser:
        user = get_user_model().objects.create_user(username=f"member-{self._next()}", email="member@example.com")
        account.members.add(user)
        return user
