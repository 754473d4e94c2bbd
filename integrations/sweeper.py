"""The sweeper: re-queues due deliveries whose job was lost, and prunes the log after the retention period."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from redis.exceptions import RedisError

from .conf import conf
from .models import Delivery, DeliveryAttempt, Event
from .queue import webhook_ensure_queued

logger = logging.getLogger(__name__)


@dataclass
class SweepResult:
    requeued: int = 0
    events_pruned: int = 0
    attempts_pruned: int = 0


def deliveries_requeue_stranded() -> int:
    """Queue a job for every webhook with deliveries due for a while and nobody holding them.

    The database is the source of truth: a flushed or restarted Redis, a killed worker or a
    failed enqueue leaves rows here, and this finds them.
    """
    now = timezone.now()
    webhook_ids = (
        Delivery.objects.due(now - timedelta(seconds=conf.SWEEP_GRACE))
        .unclaimed(now)
        .filter(webhook__is_active=True)
        .filter(Q(webhook__breaker_open_until__isnull=True) | Q(webhook__breaker_open_until__lte=now))
        .values_list("webhook_id", flat=True)
        .distinct()
    )
    requeued = 0
    for webhook_id in webhook_ids:
        if webhook_id is not None and webhook_ensure_queued(webhook_id=webhook_id):
            requeued += 1
    if requeued:
        logger.info("sweeper: queued %s webhook job(s) for stranded deliveries", requeued)
    return requeued


def log_prune(*, max_batches: int = 10) -> tuple[int, int]:
    """Delete events and attempts older than the retention period, a bounded batch at a time.

    An event with a delivery still pending is kept whatever its age.
    """
    cutoff = timezone.now() - timedelta(days=conf.RETENTION_DAYS)
    old_events = Event.objects.filter(created_at__lt=cutoff).exclude(deliveries__status=Delivery.Status.PENDING)
    old_attempts = DeliveryAttempt.objects.filter(attempted_at__lt=cutoff)
    return _delete_in_batches(old_events, max_batches), _delete_in_batches(old_attempts, max_batches)


def _delete_in_batches(rows: QuerySet[Any], max_batches: int) -> int:
    deleted = 0
    for _ in range(max_batches):
        ids = list(rows.values_list("id", flat=True)[: conf.PRUNE_BATCH])
        if not ids:
            break
        rows.model._default_manager.filter(id__in=ids).delete()
        deleted += len(ids)
    return deleted


def sweep(*, prune: bool = True) -> SweepResult:
    """One pass. Redis trouble is logged and the pass goes on: pruning needs only the database."""
    outcome = SweepResult()
    try:
        outcome.requeued = deliveries_requeue_stranded()
    except RedisError as error:
        logger.warning("sweeper: Redis unavailable (%s); will try again next pass", error)
    if prune:
        outcome.events_pruned, outcome.attempts_pruned = log_prune()
    return outcome
