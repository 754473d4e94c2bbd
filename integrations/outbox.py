"""The outbox: host changes become Event and Delivery rows in the host's own transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from . import events
from .adapter import get_adapter
from .models import Delivery, Event, Webhook
from .queue import webhooks_wake_on_commit

_MISSING = object()


def event_create(event: events.WebhookEvent) -> Event:
    identifier = event.data.get("identifier")
    return Event.objects.create(
        account_id=event.account_id,
        type=event.type,
        body=event.body,
        flow_id=event.data.get("flowId"),
        identifier=identifier if isinstance(identifier, str) else "",
    )


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
    row = event_create(event)
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


def _remember_stored(instance: models.Model, fields: tuple[str, ...], read: Callable[[Any], object]) -> None:
    """Keep what `read` says of the row the database holds now, for the post_save receiver to compare."""
    stored: object = _MISSING
    if not instance._state.adding and instance.pk is not None:
        rows = type(instance)._base_manager.filter(pk=instance.pk)
        row = (rows.only(*fields) if fields else rows).first()
        if row is not None:
            stored = read(row)
    instance._integrations_stored = stored  # type: ignore[attr-defined]


def _stored(instance: models.Model) -> object:
    return getattr(instance, "_integrations_stored", _MISSING)


def chat_before_save(*, chat: models.Model) -> None:
    adapter = get_adapter()
    # Only a save into "completed" can send anything, so other saves skip the read.
    if adapter.chat_is_completed(chat):
        _remember_stored(chat, adapter.chat_fields, adapter.chat_is_completed)


def chat_after_save(*, chat: models.Model) -> Event | None:
    """`completed` once per transition into completed (also when created completed)."""
    adapter = get_adapter()
    if not adapter.chat_is_completed(chat) or _stored(chat) is True:
        return None
    return event_record(event=events.chat_completed(chat=adapter.chat_facts(chat), score=adapter.chat_score(chat)))


def chat_after_delete(*, chat: models.Model, origin: object) -> Event | None:
    """`deleted` once per deleted chat, single, bulk or cascade; not when its account goes."""
    adapter = get_adapter()
    if adapter.is_account_deletion(origin):
        return None
    return event_record(event=events.chat_deleted(chat=adapter.chat_facts(chat)))


def feedback_before_save(*, feedback: models.Model) -> None:
    adapter = get_adapter()
    _remember_stored(feedback, adapter.feedback_fields, adapter.feedback_text)


def feedback_after_save(*, feedback: models.Model) -> Event | None:
    """`feedbackUpdated` when feedback is created or its text changes."""
    adapter = get_adapter()
    if _stored(feedback) == adapter.feedback_text(feedback):
        return None
    return event_record(event=events.feedback_updated(feedback=adapter.feedback_facts(feedback)))


def webhook_send_test(*, webhook: Webhook) -> Event:
    """A `test` notification to this one webhook (not the account's others), sent at once."""
    event = events.webhook_test(account_id=webhook.account_id)
    with transaction.atomic():
        row = event_create(event)
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
        now = timezone.now()
        Delivery.objects.filter(pk=delivery.pk).exclude(status=Delivery.Status.PENDING).restart(now)
        Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING).update(next_attempt_at=now)
        webhooks_wake_on_commit(webhook_ids=[delivery.webhook_id])
    delivery.refresh_from_db()
    return delivery
