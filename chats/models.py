"""Flows of prompts, the chats that go through them, and the admins' feedback on answers."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from accounts.models import Account
from accounts.validators import validate_multiline, validate_single_line


class AtomicSaveMixin(models.Model):
    """Runs save() and its signals in one transaction.

    In autocommit mode Django commits a plain save() before post_save runs, so the webhook
    outbox rows written by receivers would land in a second transaction. Wrapping save()
    keeps the host change and its outbox rows together on every path (views, admin, shell).
    """

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        with transaction.atomic(using=kwargs.get("using")):
            super().save(*args, **kwargs)


def new_share_token() -> str:
    return secrets.token_urlsafe(16)


class Flow(AtomicSaveMixin):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="flows")
    name = models.CharField(max_length=200, validators=[validate_single_line])
    share_token = models.CharField(max_length=64, unique=True, default=new_share_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class Prompt(AtomicSaveMixin):
    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="prompts")
    name = models.CharField(max_length=200, validators=[validate_single_line])
    text = models.TextField(validators=[validate_multiline])
    position = models.PositiveIntegerField(default=0)
    # A scored prompt: an answer equal to `expected_answer` (ignoring case and spacing) earns `points`.
    expected_answer = models.CharField(max_length=500, blank=True, validators=[validate_single_line])
    points = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["flow", "position", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_scored(self) -> bool:
        return self.points > 0 and bool(self.expected_answer.strip())


class Chat(AtomicSaveMixin):
    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        COMPLETED = "completed", "Completed"

    flow = models.ForeignKey(Flow, on_delete=models.CASCADE, related_name="chats")
    identifier = models.CharField(max_length=200, validators=[validate_single_line])
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IN_PROGRESS)
    score = models.IntegerField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["flow", "identifier"], name="chat_unique_flow_identifier")]

    def __str__(self) -> str:
        return f"{self.identifier} in {self.flow}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.status == self.Status.COMPLETED and self.completed_at is None:
            self.completed_at = timezone.now()
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "completed_at"}
        super().save(*args, **kwargs)


ANSWER_MAX_LENGTH = 2000


class Response(AtomicSaveMixin):
    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="responses")
    prompt = models.ForeignKey(Prompt, on_delete=models.CASCADE, related_name="responses")
    answer = models.TextField(max_length=ANSWER_MAX_LENGTH, validators=[validate_multiline])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["chat", "prompt__position", "id"]
        constraints = [models.UniqueConstraint(fields=["chat", "prompt"], name="response_unique_chat_prompt")]

    def __str__(self) -> str:
        return f"{self.chat.identifier}: {self.prompt.name}"


class Feedback(AtomicSaveMixin):
    response = models.OneToOneField(Response, on_delete=models.CASCADE, related_name="feedback")
    text = models.TextField(blank=True, validators=[validate_multiline])
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Feedback on {self.response}"
