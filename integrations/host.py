"""The one place that knows the host product's models (by the labels in settings) and their fields."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.utils.module_loading import import_string

from .conf import conf


def account_model() -> type[models.Model]:
    return apps.get_model(conf.ACCOUNT_MODEL)


def chat_model() -> type[models.Model]:
    return apps.get_model(conf.CHAT_MODEL)


def feedback_model() -> type[models.Model]:
    return apps.get_model(conf.FEEDBACK_MODEL)


def membership_model() -> type[models.Model]:
    return apps.get_model(conf.MEMBERSHIP_MODEL)


def chat_account_id(chat: Any) -> int:
    flow_field = type(chat)._meta.get_field("flow")
    if flow_field.is_cached(chat):  # a chat loaded with its flow (as the chat page does) needs no query
        return int(chat.flow.account_id)
    return int(
        flow_field.related_model._default_manager.filter(pk=chat.flow_id).values_list("account_id", flat=True).get()
    )


def feedback_context(feedback: Any) -> tuple[int, Any, str]:
    """(account id, chat, prompt name) of the response the feedback is on, in one query."""
    response = (
        type(feedback)
        .response.field.related_model._default_manager.select_related("chat__flow", "prompt")
        .only("chat__flow__account_id", "chat__flow_id", "chat__identifier", "prompt__name")
        .get(pk=feedback.response_id)
    )
    return int(response.chat.flow.account_id), response.chat, str(response.prompt.name)


def is_account_deletion(origin: Any) -> bool:
    """Whether a delete started from an account (its webhooks go with it, so nothing is sent)."""
    account = account_model()
    if isinstance(origin, models.QuerySet):
        return issubclass(origin.model, account)
    return isinstance(origin, account)


def admin_account_for(user: AbstractBaseUser | AnonymousUser) -> Any | None:
    """The account whose integrations this user may change, or None: the host product decides."""
    resolve = import_string(conf.ADMIN_ACCOUNT_RESOLVER)
    return resolve(user=user)


def account_admin_emails(account_id: int) -> list[str]:
    """Where to tell an account's admins about their webhook (users without an address are skipped)."""
    emails = (
        membership_model()
        ._default_manager.filter(account_id=account_id, role="admin")
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    return sorted(set(emails))
