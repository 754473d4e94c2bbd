"""The outbox: host changes become Event and Delivery rows in the host's own transaction."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from . import catalog, events
from .adapter import get_adapter, triggered_by
from .models import Delivery, DeliveryQuerySet, Event, Webhook, subscribes
from .queue import webhooks_wake_on_commit
from .rows import rows_insert

logger = logging.getLogger(__name__)


def event_create(event: events.WebhookEvent, *, is_example: bool = False) -> Event:
    subject_id, subject_key = event_subject(event.data)
    row = Event(
        account_id=event.account_id,
        type=event.type,
        body=event.body,
        subject_id=subject_id,
        subject_key=subject_key,
        is_example=is_example,
    )
    rows_insert([row])  # on the host's request path: the ORM's save() costs more than the write
    return row


def event_subject(data: dict[str, Any]) -> tuple[int | None, str]:
    """What an event is about: the values of the `data` fields the adapter names in `subject_fields`."""
    fields = get_adapter().subject_fields
    if not fields:
        return None, ""
    number, key = data.get(fields[0]), data.get(fields[1])
    whole = isinstance(number, int) and not isinstance(number, bool) and -(2**63) <= number < 2**63
    return (number if whole else None), (key if isinstance(key, str) else "")


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
        if subscribes(event_types, event.type)
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


def _stored_states(instance: models.Model, types: list[catalog.EventType]) -> dict[str, object]:
    """What each type's `state` says of the row the database holds now (before this save), by type name."""
    if instance._state.adding or instance.pk is None:
        return {}
    fields = {name for event_type in types for name in event_type.trigger.fields}  # type: ignore[union-attr]
    rows = type(instance)._base_manager.filter(pk=instance.pk)
    row = (rows.only(*fields) if fields else rows).first()
    if row is None:
        return {}
    return {event_type.name: event_type.trigger.state(row) for event_type in types}  # type: ignore[union-attr]


def instance_before_save(*, instance: models.Model) -> None:
    """Remember what the types this save may send say of the stored row, for `instance_after_save`."""
    # A save for which no type's `when` holds sends nothing, so it reads nothing.
    types = [
        event_type
        for event_type in triggered_by(type(instance), catalog.OnSave)
        if event_type.trigger.when(instance)  # type: ignore[union-attr]
    ]
    if types:
        instance._integrations_stored = _stored_states(instance, types)  # type: ignore[attr-defined]


def instance_after_save(*, instance: models.Model) -> list[Event]:
    """One event per type whose `state` this save changed (a created object counts as changed)."""
    stored: dict[str, object] = getattr(instance, "_integrations_stored", {})
    instance.__dict__.pop("_integrations_stored", None)
    recorded = []
    for event_type in triggered_by(type(instance), catalog.OnSave):
        trigger: Any = event_type.trigger
        if not trigger.when(instance):
            continue
        if event_type.name in stored and stored[event_type.name] == trigger.state(instance):
            continue
        row = event_record(event=events.built(event_type, trigger.build(instance)))
        if row is not None:
            recorded.append(row)
    return recorded


def instance_after_delete(*, instance: models.Model, origin: object) -> list[Event]:
    """One event per type the deletion sends: single, bulk or cascade; none when its account goes."""
    types = triggered_by(type(instance), catalog.OnDelete)
    if not types or get_adapter().is_account_deletion(origin):
        return []
    recorded = []
    for event_type in types:
        trigger: Any = event_type.trigger
        row = event_record(event=events.built(event_type, trigger.build(instance)))
        if row is not None:
            recorded.append(row)
    return recorded


def webhook_send_test(*, webhook: Webhook) -> Delivery:
    """A `test` notification to this one endpoint (not the account's others), sent at once."""
    return _send_one(webhook=webhook, event=events.webhook_test(account_id=webhook.account_id), is_example=False)


def webhook_send_example(*, webhook: Webhook, event_type: str) -> Delivery:
    """An example of `event_type` to this one endpoint, signed and logged like a real one."""
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
