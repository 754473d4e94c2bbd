"""Model signals of the host product, each turned into a call to the outbox."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from . import host, outbox, webhooks
from .models import Webhook


def on_chat_pre_save(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        outbox.chat_before_save(chat=instance)


def on_chat_post_save(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if not raw:  # fixtures being loaded are not news
        outbox.chat_after_save(chat=instance)


def on_chat_post_delete(sender: Any, instance: Any, origin: Any = None, **kwargs: Any) -> None:
    outbox.chat_after_delete(chat=instance, origin=origin)


def on_feedback_pre_save(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        outbox.feedback_before_save(feedback=instance)


def on_feedback_post_save(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        outbox.feedback_after_save(feedback=instance)


def on_webhook_pre_delete(sender: Any, instance: Webhook, **kwargs: Any) -> None:
    webhooks.webhook_before_delete(webhook=instance)


def connect() -> None:
    chat, feedback = host.chat_model(), host.feedback_model()
    pre_save.connect(on_chat_pre_save, sender=chat, dispatch_uid="integrations.chat_pre_save")
    post_save.connect(on_chat_post_save, sender=chat, dispatch_uid="integrations.chat_post_save")
    post_delete.connect(on_chat_post_delete, sender=chat, dispatch_uid="integrations.chat_post_delete")
    pre_save.connect(on_feedback_pre_save, sender=feedback, dispatch_uid="integrations.feedback_pre_save")
    post_save.connect(on_feedback_post_save, sender=feedback, dispatch_uid="integrations.feedback_post_save")
    pre_delete.connect(on_webhook_pre_delete, sender=Webhook, dispatch_uid="integrations.webhook_pre_delete")
