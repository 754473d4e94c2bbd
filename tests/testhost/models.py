"""A help desk's teams (the accounts), their tickets and the notes on them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models, transaction


class Team(models.Model):
    name = models.CharField(max_length=100)
    admins = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="administered_teams")
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")

    def __str__(self) -> str:
        return self.name


class AtomicSave(models.Model):
    """Saved in a transaction, as docs/install.md asks: the notification is recorded with the change."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)


class Ticket(AtomicSave):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="tickets")
    # What people call it: any text, as they type it.
    reference = models.CharField(max_length=200)
    closed_at = models.DateTimeField(null=True, blank=True)
    rating = models.IntegerField(null=True, blank=True)

    def __str__(self) -> str:
        return self.reference


class Note(AtomicSave):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="notes")
    text = models.TextField()

    def __str__(self) -> str:
        return self.text[:40]
