"""The example host's own models: nothing like DialogForm's names, which is the point."""

from django.conf import settings
from django.db import models


class Team(models.Model):
    """The account: webhooks belong to a team."""

    name = models.CharField(max_length=100)
    admins = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams_administered", blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="teams", blank=True)

    def __str__(self) -> str:
        return self.name


class Survey(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="surveys")
    title = models.CharField(max_length=200)

    def __str__(self) -> str:
        return self.title


class Submission(models.Model):
    """The "chat": someone's answers to a survey, submitted once they are done."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="submissions")
    reference = models.CharField(max_length=100)
    submitted_at = models.DateTimeField(null=True, blank=True)
    points = models.IntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return self.reference


class Review(models.Model):
    """The "feedback": a reviewer's note on one question of a submission."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="reviews")
    question = models.SlugField()
    note = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.submission}: {self.question}"
