"""Model signals of the host product (the models the adapter names), each turned into a call to the outbox."""

from __future__ import annotations

import logging
from typing import Any

from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from . import outbox, webhooks
from .adapter import get_adapter
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
    pre_delete.connect(on_webhook_pre_delete, sender=Webhook, dispatch_uid="integrations.webhook_pre_delete")
    try:
        adapter = get_adapter()
        chat, feedback = adapter.get_chat_model(), adapter.get_feedback_model()
    except (ImportError, LookupError, ValueError, TypeError) as error:
        # `manage.py check` says what is wrong (integrations.E011-E013); starting must not hide it.
        logging.getLogger(__name__).error("integrations: the host's models are not connected: %s", error)
        return
    pre_save.connect(on_chat_pre_save, sender=chat, dispatch_uid="integrations.chat_pre_save")
    post_save.connect(on_chat_post_save, sender=chat, dispatch_uid="integrations.chat_post_save")
    post_delete.connect(on_chat_post_delete, sender=chat, dispatch_uid="integrations.chat_post_delete")
    pre_save.connect(on_feedback_pre_save, sender=feedback, dispatch_uid="integrations.feedback_pre_save")
    post_save.connect(on_feedback_post_save, sender=feedback, dispatch_uid="integrations.feedback_post_save")
