"""Sending a webhook's due deliveries: claim with a lease, sign, POST, record the attempt."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from . import signing, transport
from .conf import conf
from .dispatch import webhook_wake, webhook_wake_at
from .models import Delivery, DeliveryAttempt, Webhook
from .retry import retry_delay

logger = logging.getLogger(__name__)


@dataclass
class DrainResult:
    sent: int = 0
    succeeded: int = 0
    more_due: bool = False


def _claimable(now: datetime) -> Q:
    return Q(status=Delivery.Status.PENDING, next_attempt_at__lte=now) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )


def deliveries_claim(*, webhook_id: int, limit: int) -> list[Delivery]:
    """Claim up to `limit` due deliveries; the conditional UPDATE lets only one claimer win each row."""
    now = timezone.now()
    token = uuid.uuid4()
    due_ids = list(
        Delivery.objects.filter(_claimable(now), webhook_id=webhook_id)
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )
    if not due_ids:
        return []
    lease_until = now + timedelta(seconds=conf.CLAIM_LEASE_SECONDS)
    Delivery.objects.filter(_claimable(now), id__in=due_ids).update(claimed_until=lease_until, claim_token=token)
    return list(Delivery.objects.filter(claim_token=token).select_related("event").order_by("next_attempt_at", "id"))


def deliveries_release(*, deliveries: list[Delivery]) -> None:
    """Give back claims this job will not use, so the next job can take them at once."""
    for delivery in deliveries:
        Delivery.objects.filter(pk=delivery.pk, claim_token=delivery.claim_token).update(
            claimed_until=None, claim_token=None
        )


def delivery_attempt(*, delivery: Delivery, webhook: Webhook) -> DeliveryAttempt:
    """One signed POST of a claimed delivery, recorded with the delivery's next state."""
    event = delivery.event
    timestamp = int(time.time())
    attempted_at = timezone.now()
    headers = signing.request_headers(
        msg_id=event.webhook_id, timestamp=timestamp, body=event.body, secrets=[webhook.secret]
    )
    result = transport.post(url=webhook.url, body=event.body.encode(), headers=headers)
    succeeded = result.succeeded
    error = result.error
    if not succeeded and not error and result.status_code is not None:
        error = f"The receiver answered HTTP {result.status_code}."

    attempts_made = delivery.attempt_count + 1
    changes: dict[str, object] = {
        "attempt_count": F("attempt_count") + 1,
        "last_attempt_at": attempted_at,
        "claimed_until": None,
        "claim_token": None,
    }
    if succeeded:
        changes.update(status=Delivery.Status.SUCCEEDED, next_attempt_at=None)
    else:
        delay = retry_delay(attempts_made=attempts_made, schedule=conf.RETRY_SCHEDULE, jitter=conf.RETRY_JITTER)
        if delay is None:
            changes.update(status=Delivery.Status.FAILED, next_attempt_at=None)
        else:
            changes.update(next_attempt_at=timezone.now() + timedelta(seconds=delay))

    stored_body = result.body[: conf.RESPONSE_STORE_LIMIT].decode("utf-8", errors="replace").replace("\x00", "")
    attempt = DeliveryAttempt(
        delivery=delivery,
        attempted_at=attempted_at,
        succeeded=succeeded,
        status_code=result.status_code,
        duration_ms=result.duration_ms,
        response_body=stored_body,
        error=error,
    )
    with transaction.atomic():
        # Only while the claim is ours: a worker whose lease ran out must not overwrite a newer state.
        updated = Delivery.objects.filter(pk=delivery.pk, claim_token=delivery.claim_token).update(**changes)
        # The attempt happened either way; it has nowhere to go only if the webhook was deleted meanwhile.
        if updated or Delivery.objects.filter(pk=delivery.pk).exists():
            attempt.save()
    log = logger.info if succeeded else logger.warning
    log(
        "webhook %s delivery %s attempt %s: %s in %s ms",
        webhook.pk,
        delivery.pk,
        attempts_made,
        result.status_code or error,
        result.duration_ms,
    )
    return attempt


def webhook_deliver_due(*, webhook_id: int) -> DrainResult:
    """Send the webhook's due deliveries, bounded in count and time; queue whatever remains."""
    outcome = DrainResult()
    webhook = Webhook.objects.filter(pk=webhook_id, is_active=True).first()
    if webhook is None:
        return outcome
    started = time.monotonic()
    while outcome.sent < conf.JOB_MAX_DELIVERIES:
        batch = deliveries_claim(
            webhook_id=webhook_id, limit=min(conf.BATCH_SIZE, conf.JOB_MAX_DELIVERIES - outcome.sent)
        )
        if not batch:
            break
        for index, delivery in enumerate(batch):
            if time.monotonic() - started >= conf.JOB_MAX_SECONDS:
                deliveries_release(deliveries=batch[index:])
                outcome.more_due = True
                break
            attempt = delivery_attempt(delivery=delivery, webhook=webhook)
            outcome.sent += 1
            outcome.succeeded += attempt.succeeded
        if outcome.more_due:
            break
    else:
        outcome.more_due = True

    if outcome.more_due:
        # A fresh job, behind other webhooks' jobs in the queue, so one busy webhook cannot hog a worker.
        webhook_wake(webhook_id=webhook_id)
    else:
        next_due = Delivery.objects.filter(
            webhook_id=webhook_id, status=Delivery.Status.PENDING, next_attempt_at__gt=timezone.now()
        ).aggregate(at=Min("next_attempt_at"))["at"]
        if next_due is not None:
            webhook_wake_at(webhook_id=webhook_id, when=next_due)
    return outcome
