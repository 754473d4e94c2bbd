"""The outbox: host changes become Event and Delivery rows in the host's own transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from . import events
from .adapter import get_adapter
from .models import Delivery, DeliveryQuerySet, Event, Webhook
from .queue import webhooks_wake_on_commit
from .rows import rows_insert

logger = logging.getLogger(__name__)
_MISSING = object()


def event_create(event: events.WebhookEvent, *, is_example: bool = False) -> Event:
    identifier = event.data.get("identifier")
    row = Event(
        account_id=event.account_id,
        type=event.type,
        body=event.body,
        flow_id=event.data.get("flowId"),
        identifier=identifier if isinstance(identifier, str) else "",
        is_example=is_example,
    )
    rows_insert([row])  # on the host's request path: the ORM's save() costs more than the write
    return row


def event_record(*, event: events.WebhookEvent) -> Event | None:
    """Record the event for every endpoint of its account subscribed to its type; wake their jobs after commit.

    An active endpoint gets it now; a paused one holds it until it is resumed; one disabled for
    failing gets it already failed, so that re-enabling it (or a recovery) can resend it.
    """
    endpoints = [
        (webhook_id, is_active, disabled_at)
        for webhook_id, is_active, disabled_at, event_types in Webhook.objects.filter(account_id=event.account_id)
        .order_by("id")  # not the model's ordering, which joins the account table for its name
        .values_list("id", "is_active", "disabled_at", "event_types")
        # A handful per account: the subscription is read here, the same way on every database.
        if not event_types or event.type in event_types
    ]
    if not endpoints:
        return None
    row = event_create(event)
    now = timezone.now()
    rows_insert(
        [
            Delivery(event=row, account_id=row.account_id, webhook_id=webhook_id, status=Delivery.Status.FAILED)
            if disabled_at is not None
            else Delivery(event=row, account_id=row.account_id, webhook_id=webhook_id, next_attempt_at=now)
            for webhook_id, is_active, disabled_at in endpoints
        ]
    )
    webhooks_wake_on_commit(webhook_ids=[webhook_id for webhook_id, is_active, _ in endpoints if is_active])
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


def webhook_send_test(*, webhook: Webhook) -> Delivery:
    """A `test` notification to this one endpoint (not the account's others), sent at once."""
    return _send_one(webhook=webhook, event=events.webhook_test(account_id=webhook.account_id), is_example=False)


def webhook_send_example(*, webhook: Webhook, event_type: str) -> Delivery:
    """An example of `event_type` to this one endpoint, signed and logged like a real one (its flowId is 0)."""
    return _send_one(
        webhook=webhook, event=events.example(account_id=webhook.account_id, event_type=event_type), is_example=True
    )


def _send_one(*, webhook: Webhook, event: events.WebhookEvent, is_example: bool) -> Delivery:
    with transaction.atomic():
        row = event_create(event, is_example=is_example)
        delivery = Delivery.objects.create(
            event=row, account_id=row.account_id, webhook=webhook, next_attempt_at=timezone.now()
        )
        webhooks_wake_on_commit(webhook_ids=[webhook.pk])
    return delivery


def _resent(now: datetime) -> dict[str, Any]:
    return {"resend_count": F("resend_count") + 1, "resent_at": now}


def delivery_resend(*, delivery: Delivery) -> Delivery:
    """Send a delivery again, with a fresh retry schedule; the same `webhook-id`, its attempts kept.

    A delivery already on its way is only moved forward, never sent twice at once.
    """
    if delivery.webhook_id is None:
        raise ValueError("The delivery's webhook was deleted; there is nowhere to send it.")
    with transaction.atomic():
        now = timezone.now()
        Delivery.objects.filter(pk=delivery.pk).exclude(status=Delivery.Status.PENDING).restart(now, **_resent(now))
        Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.PENDING).update(next_attempt_at=now)
        webhooks_wake_on_commit(webhook_ids=[delivery.webhook_id])
    delivery.refresh_from_db()
    return delivery


def deliveries_to_recover(*, webhook: Webhook, since: datetime) -> DeliveryQuerySet:
    """What "Recover" resends: the endpoint's deliveries that failed for good since `since`.

    Failed since then: their last attempt was since (the retries ran out during the outage), or they
    were created since (held as failed while the endpoint was disabled).
    """
    return Delivery.objects.filter(webhook=webhook, status=Delivery.Status.FAILED).filter(
        Q(last_attempt_at__gte=since) | Q(created_at__gte=since)
    )


def webhook_recover(*, webhook: Webhook, since: datetime) -> int:
    """Resend every delivery of the endpoint that failed since `since`, each with its own `webhook-id`.

    Each is resent once: a delivery already pending again is not in the set a second time.
    """
    with transaction.atomic():
        now = timezone.now()
        resent = deliveries_to_recover(webhook=webhook, since=since).restart(now, **_resent(now))
        if resent:
            webhooks_wake_on_commit(webhook_ids=[webhook.pk])
    logger.info("webhook %s: recovery since %s resends %s deliveries", webhook.pk, since.isoformat(), resent)
    return resent
