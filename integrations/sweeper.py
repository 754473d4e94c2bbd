"""The sweeper: re-queues due deliveries whose job was lost, and prunes the log after the retention period."""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from redis.exceptions import RedisError
from redis.lock import Lock

from .conf import conf
from .models import Delivery, DeliveryAttempt, EndpointDurations, EndpointHour, Event
from .queue import redis_connection, webhook_ensure_queued

logger = logging.getLogger(__name__)

# Statements of PRUNE_BATCH rows per kind of row and pass: a pass that deletes this many leaves a backlog,
# and the sweeper's next pass comes at once (`SweepResult.prune_backlog`).
PRUNE_BATCHES = 10


@dataclass
class SweepResult:
    requeued: int = 0
    skipped: bool = False  # another sweeper was doing a pass
    events_pruned: int = 0
    attempts_pruned: int = 0

    @property
    def prune_backlog(self) -> bool:
        """The pass deleted all it may: more is past retention, so the next one should come soon."""
        return max(self.events_pruned, self.attempts_pruned) >= PRUNE_BATCHES * conf.PRUNE_BATCH


def deliveries_requeue_stranded() -> int:
    """Queue a job for every webhook with deliveries due for a while and nobody holding them.

    The database is the source of truth: a flushed or restarted Redis, a killed worker or a
    failed enqueue leaves rows here, and this finds them.
    """
    now = timezone.now()
    webhook_ids = (
        Delivery.objects.sendable(now)
        .filter(next_attempt_at__lte=now - timedelta(seconds=conf.SWEEP_GRACE))
        .unclaimed(now)
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


def log_prune(*, max_batches: int = PRUNE_BATCHES) -> tuple[int, int]:
    """Delete events (with their deliveries and attempts), attempts and endpoint counts older than the
    retention period: oldest first, `PRUNE_BATCH` rows per statement, each its own short transaction,
    so that nothing the sender or the pages wait on is ever locked for long.

    An event with a delivery still pending is kept whatever its age. Returns (events, attempts) deleted.
    """
    cutoff = timezone.now() - timedelta(days=conf.RETENTION_DAYS)
    old_events = (
        Event.objects.filter(created_at__lt=cutoff)
        .exclude(deliveries__status=Delivery.Status.PENDING)
        .order_by("created_at")  # read from the created_at index, from the oldest
    )
    events = _delete_in_batches(old_events, max_batches)
    attempts = _delete_in_batches(
        DeliveryAttempt.objects.filter(attempted_at__lt=cutoff).order_by("attempted_at"), max_batches
    )
    _delete_in_batches(EndpointHour.objects.filter(hour__lt=cutoff).order_by("hour"), max_batches)
    _delete_in_batches(EndpointDurations.objects.filter(hour__lt=cutoff).order_by("hour"), max_batches)
    return events, attempts


def _delete_in_batches(rows: QuerySet[Any], max_batches: int) -> int:
    deleted = 0
    for _ in range(max_batches):
        ids = list(rows.values_list("id", flat=True)[: conf.PRUNE_BATCH])
        if not ids:
            break
        rows.model._default_manager.filter(id__in=ids).delete()  # a transaction of its own (Django's delete)
        deleted += len(ids)
    return deleted


# Held by the sweeper doing a pass: sweepers on several machines take turns (each pass is bounded well within it).
SWEEP_LOCK = "integrations:sweeper:lock"
SWEEP_LOCK_SECONDS = 300


def sweep(*, prune: bool = True) -> SweepResult:
    """One pass, unless another sweeper is doing one. Redis trouble is logged and the pass goes on:
    pruning needs only the database, and two sweepers pruning at once delete by id, harmlessly.
    """
    outcome = SweepResult()
    lock: Lock | None = None
    try:
        lock = redis_connection().lock(SWEEP_LOCK, timeout=SWEEP_LOCK_SECONDS)
        if not lock.acquire(blocking=False):
            outcome.skipped = True
            return outcome
        outcome.requeued = deliveries_requeue_stranded()
    except RedisError as error:
        logger.warning("sweeper: Redis unavailable (%s); will try again next pass", error)
    try:
        if prune:
            outcome.events_pruned, outcome.attempts_pruned = log_prune()
    finally:
        if lock is not None:
            with contextlib.suppress(RedisError):
                lock.release()
    return outcome
