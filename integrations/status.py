"""The sending system's own health, for operators: what /healthz answers (and /metrics' gauges read, with the
Prometheus part).

Each figure is one indexed query or one Redis command, so that a load balancer or Prometheus may
ask every few seconds. A figure that cannot be read is None, and says which part is unreachable.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import DatabaseError
from django.db.models import Count, Min, Q
from django.utils import timezone
from redis.exceptions import RedisError
from rq import Worker

from .conf import conf
from .models import Delivery, Webhook
from .queue import LAST_SENT_KEY, redis_probe_connection, webhooks_queue

logger = logging.getLogger(__name__)

ENDPOINT_STATES = ("active", "failing", "waiting", "paused", "disabled")


@dataclass(frozen=True)
class Backlog:
    """Deliveries the workers should be sending now: due, to endpoints that are on and not cooling down."""

    due: int
    oldest_due_at: datetime | None

    def oldest_age(self, now: datetime) -> float:
        return max(0.0, (now - self.oldest_due_at).total_seconds()) if self.oldest_due_at else 0.0


def backlog(now: datetime) -> Backlog:
    figures = Delivery.objects.sendable(now).aggregate(due=Count("id"), oldest=Min("next_attempt_at"))
    return Backlog(due=figures["due"], oldest_due_at=figures["oldest"])


def endpoint_state_counts(now: datetime) -> dict[str, int]:
    """How many endpoints are in each state of `Webhook.state`, in one query."""
    cooling = Q(breaker_open_until__gt=now)
    sending = Q(is_active=True) & ~cooling
    counts = Webhook.objects.aggregate(
        active=Count("id", filter=sending & Q(consecutive_failures=0)),
        failing=Count("id", filter=sending & Q(consecutive_failures__gt=0)),
        waiting=Count("id", filter=Q(is_active=True) & cooling),
        paused=Count("id", filter=Q(is_active=False, disabled_at__isnull=True)),
        disabled=Count("id", filter=Q(is_active=False, disabled_at__isnull=False)),
    )
    return {state: counts[state] for state in ENDPOINT_STATES}


@dataclass(frozen=True)
class QueueFigures:
    """The RQ side: jobs waiting, scheduled (retries to come) and failed; workers registered; last job done."""

    queued: int
    scheduled: int
    failed: int
    workers: int
    last_job_finished_at: float | None


def queue_figures() -> QueueFigures:
    """Raises RedisError when Redis does not answer within the probe's timeout."""
    connection = redis_probe_connection()
    queue = webhooks_queue()
    last = connection.get(LAST_SENT_KEY)
    # Registries counted without their clean-up pass: a probe reads, it does not move jobs about.
    scheduled_key = queue.scheduled_job_registry.key
    failed_key = queue.failed_job_registry.key
    with connection.pipeline(transaction=False) as pipe:
        pipe.llen(queue.key)
        pipe.zcard(scheduled_key)
        pipe.zcard(failed_key)
        queued, scheduled, failed = pipe.execute()
    workers = Worker.count(connection=connection, queue=queue)
    return QueueFigures(
        queued=int(queued),
        scheduled=int(scheduled),
        failed=int(failed),
        workers=workers,
        last_job_finished_at=float(last) if last is not None else None,
    )


@dataclass
class SystemStatus:
    """What /healthz answers (and /metrics' gauges read): healthy unless a part is unreachable or
    deliveries wait too long. A part's figures are None when it did not answer."""

    checked_at: datetime
    backlog: Backlog | None = None
    endpoint_states: dict[str, int] | None = None
    queue: QueueFigures | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def database(self) -> bool:
        return self.backlog is not None

    @property
    def redis(self) -> bool:
        return self.queue is not None

    @property
    def healthy(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        now = self.checked_at
        finished = self.queue.last_job_finished_at if self.queue else None
        return {
            "status": "ok" if self.healthy else "unhealthy",
            "problems": self.problems,
            "checked_at": now.isoformat(),
            "database": {"reachable": self.database},
            "redis": {"reachable": self.redis},
            "deliveries_due": self.backlog.due if self.backlog else None,
            "oldest_due_age_seconds": round(self.backlog.oldest_age(now), 3) if self.backlog else None,
            "oldest_due_age_limit_seconds": conf.HEALTHZ_MAX_DUE_AGE,
            "queued_jobs": self.queue.queued if self.queue else None,
            "workers": self.queue.workers if self.queue else None,
            "worker_last_job_finished_at": (datetime.fromtimestamp(finished, tz=UTC).isoformat() if finished else None),
            "worker_last_job_finished_seconds_ago": round(now.timestamp() - finished, 3) if finished else None,
        }


def system_status(*, with_endpoint_states: bool = False) -> SystemStatus:
    """The figures, each part asked once; `with_endpoint_states` adds a scan of every endpoint (for /metrics)."""
    status = SystemStatus(checked_at=timezone.now())
    try:
        figures = backlog(status.checked_at)
        if with_endpoint_states:
            status.endpoint_states = endpoint_state_counts(status.checked_at)
        status.backlog = figures
    except DatabaseError as error:
        status.problems.append(f"The database is unreachable ({type(error).__name__}).")
    try:
        status.queue = queue_figures()
    except RedisError as error:
        status.problems.append(f"Redis is unreachable ({type(error).__name__}).")
    if status.backlog is not None:
        age = status.backlog.oldest_age(status.checked_at)
        if age > conf.HEALTHZ_MAX_DUE_AGE:
            status.problems.append(
                f"The oldest due delivery has waited {age:.0f} s (the limit is {conf.HEALTHZ_MAX_DUE_AGE:g} s): "
                "too few workers, or none running."
            )
    return status
