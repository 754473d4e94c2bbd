"""The outbox: host changes become Event and Delivery rows in the host's own transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import events, host
from .dispatch import webhooks_wake_on_commit
from .models import DELIVERY_RESTART, Delivery, Event, Webhook

_MISSING = object()


def event_record(*, event: events.WebhookEvent) -> Event | None:
    """Record the event for every active webhook of its account; wake their jobs after commit.

    A webhook disabled for failing gets the delivery too, already failed, so that re-enabling it
    can resend what happened meanwhile.
    """
    webhooks = list(
        Webhook.objects.filter(account_id=event.account_id)
        .filter(Q(is_active=True) | Q(disabled_at__isnull=False))
        .order_by("id")  # not the model's ordering, which joins the account table for its name
        .values_list("id", "is_active")
    )
    if not webhooks:
        return None
    row = Event.objects.create(account_id=event.account_id, type=event.type, body=event.body)
    now = timezone.now()
    Delivery.objects.bulk_create(
        [
            Delivery(event=row, webhook_id=webhook_id, next_attempt_at=now)
            if is_active
            else Delivery(event=row, webhook_id=webhook_id, status=Delivery.Status.FAILED)
            for webhook_id, is_active in webhooks
        ]
    )
    webhooks_wake_on_commit(webhook_ids=[webhook_id for webhook_id, is_active in webhooks if is_active])
    return row


def _remember_stored(instance: Any, field: str) -> None:
    """Keep the value the database holds now, for the post_save receiver to compare with."""
    stored: Any = _MISSING
    if not instance._state.adding and instance.pk is not None:
        stored = type(instance)._base_manager.filter(pk=instance.pk).values_list(field, flat=True).first()
    instance._integrations_stored = stored


def _stored(instance: Any) -> Any:
    return getattr(instance, "_integrations_stored", _MISSING)


def chat_before_save(*, chat: Any) -> None:
    # Only a save into "completed" can send anything, so other saves skip the read.
    if chat.status == "completed":
        _remember_stored(chat, "status")


def chat_after_save(*, chat: Any) -> Event | None:
    """`completed` once per transition into completed (also when created completed)."""
    if chat.status != "completed" or _stored(chat) == "completed":
        return None
    return event_record(
        event=events.chat_completed(
            account_id=host.chat_account_id(chat),
            flow_id=chat.flow_id,
            identifier=chat.identifier,
            score=chat.score,
        )
    )


def chat_after_delete(*, chat: Any, origin: Any) -> Event | None:
    """`deleted` once per deleted chat, single, bulk or cascade; not when its account goes."""
    if host.is_account_deletion(origin):
        return None
    return event_record(
        event=events.chat_deleted(
            account_id=host.chat_account_id(chat), flow_id=chat.flow_id, identifier=chat.identifier
        )
    )


def feedback_before_save(*, feedback: Any) -> None:
    _remember_stored(feedback, "text")


def feedback_after_save(*, feedback: Any) -> Event | None:
    """`feedbackUpdated` when feedback is created or its text changes."""
    if _stored(feedback) == feedback.text:
        return None
    account_id, chat, prompt_name = host.feedback_context(feedback)
    return event_record(
        event=events.feedback_updated(
            account_id=account_id, flow_id=chat.flow_id, identifier=chat.identifier, prompt_name=prompt_name
        )
    )


def webhook_send_test(*, webhook: Webhook) -> Event:
    """A `test` notification to this one webhook (not the account's others), sent at once."""
    event = events.webhook_test(account_id=webhook.account_id)
    with transaction.atomic():
        row = Event.objects.create(account_id=event.account_id, type=event.type, body=event.body)
        Delivery.objects.create(event=row, webhook=webhook, next_attempt_at=timezone.now())
        webhooks_wake_on_commit(webhook_ids=[webhook.pk])
    return row


def delivery_resend(*, delivery: Delivery) -> Delivery:
    """Send a delivery again, with a fresh retry schedule; the same `webhook-id`, its attempts kept.

    A delivery already on its way is only moved forward, never sent twice at once.
    """
    if delivery.webhook_id is None:
        raise ValueError("The delivery's webhook was deleted; there is nowhere to send it.")
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).exclude(status=Delivery.Status.PENDING).update(
            **DELIVERY_RESTART, claimed_until=None, claim_token=None
        )
        Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING).update(next_attempt_at=timezone.now())
        webhooks_wake_on_commit(webhook_ids=[delivery.webhook_id])
    delivery.refresh_from_db()
    return delivery
