"""Prometheus metrics of webhook delivery, served at /metrics.

Counters and histograms are kept by the processes that send (the workers). With
PROMETHEUS_MULTIPROC_DIR set in every process's environment before it starts, prometheus-client
keeps them in files in that directory, and /metrics, served by any web process, adds up every
process's files. Gauges (the backlog, endpoint states, the queue) are read when /metrics is asked.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, fields
from functools import cache

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from . import status

PREFIX = "dialogform_webhook"
MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


@dataclass(frozen=True)
class SendingMetrics:
    attempts: Counter
    attempt_duration: Histogram
    first_attempt_lag: Histogram
    deliveries_failed: Counter
    endpoint_state_changes: Counter

    def all(self) -> tuple[Counter | Histogram, ...]:
        return tuple(getattr(self, item.name) for item in fields(self))


@cache
def sending_metrics() -> SendingMetrics:
    """Made on first use, by the processes that send: in multiprocess mode each process that makes
    them keeps a file for them, and a web process or a management command has nothing to count.
    (prometheus-client adds `_total` to counters' names.)
    """
    return SendingMetrics(
        attempts=Counter(
            f"{PREFIX}_attempts",
            "Delivery attempts, by outcome (succeeded, http_error, timeout, connection_error, not_sent) and "
            "the receiver's HTTP status class (2xx to 5xx, or none without an answer).",
            ["outcome", "status_class"],
        ),
        attempt_duration=Histogram(
            f"{PREFIX}_attempt_duration_seconds",
            "How long delivery attempts took, from connecting to the end of the answer.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30),
        ),
        first_attempt_lag=Histogram(
            f"{PREFIX}_first_attempt_lag_seconds",
            "From an event's recording (the commit of the change that caused it) to its first attempt, "
            "to endpoints that were not failing; resends are not counted.",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
        ),
        deliveries_failed=Counter(
            f"{PREFIX}_deliveries_failed",
            "Deliveries failed for good: retries used up, the endpoint disabled, or sending gave up.",
        ),
        endpoint_state_changes=Counter(
            f"{PREFIX}_endpoint_state_changes",
            "Endpoints changing state, by the state they change to (failing, waiting, disabled, active, paused).",
            ["state"],
        ),
    )


def status_class(status_code: int | None) -> str:
    return f"{status_code // 100}xx" if status_code else "none"


class SystemCollector(Collector):
    """The gauges read at scrape time, from the figures /healthz reads: a part that does not answer
    gives `…_up 0` and no figures of its own."""

    def collect(self) -> Iterator[Metric]:
        system = status.system_status(with_endpoint_states=True)
        yield GaugeMetricFamily(
            f"{PREFIX}_database_up", "1 when the database answered this scrape.", value=int(system.database)
        )
        yield GaugeMetricFamily(f"{PREFIX}_redis_up", "1 when Redis answered this scrape.", value=int(system.redis))
        if system.backlog is not None:
            yield GaugeMetricFamily(
                f"{PREFIX}_deliveries_due",
                "Deliveries due now to endpoints that are on and not cooling down.",
                value=system.backlog.due,
            )
            yield GaugeMetricFamily(
                f"{PREFIX}_oldest_due_age_seconds",
                "How long the oldest of those has been due (0 when none is).",
                value=system.backlog.oldest_age(system.checked_at),
            )
        if system.endpoint_states is not None:
            endpoints = GaugeMetricFamily(
                f"{PREFIX}_endpoints",
                "Endpoints by state: active, failing, waiting (circuit breaker open), paused, disabled.",
                labels=["state"],
            )
            for state, count in system.endpoint_states.items():
                endpoints.add_metric([state], count)
            yield endpoints
        queue = system.queue
        if queue is not None:
            jobs = GaugeMetricFamily(
                f"{PREFIX}_queue_jobs",
                "Jobs of the webhooks queue: queued (waiting for a worker), scheduled (retries to come), failed.",
                labels=["state"],
            )
            jobs.add_metric(["queued"], queue.queued)
            jobs.add_metric(["scheduled"], queue.scheduled)
            jobs.add_metric(["failed"], queue.failed)
            yield jobs
            yield GaugeMetricFamily(
                f"{PREFIX}_workers", "Workers registered on the webhooks queue.", value=queue.workers
            )
            if queue.last_job_finished_at is not None:
                yield GaugeMetricFamily(
                    f"{PREFIX}_worker_last_job_finished_timestamp_seconds",
                    "When a worker last finished sending an endpoint's deliveries (Unix time).",
                    value=queue.last_job_finished_at,
                )


def is_multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROCESS_DIR_VARIABLE))


def exposition() -> tuple[bytes, str]:
    """The text /metrics answers, and its content type."""
    registry = CollectorRegistry()
    if is_multiprocess():
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        # One process (development, tests): this process's own counters.
        registry.register(_ProcessCounters())
    registry.register(SystemCollector())
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _ProcessCounters(Collector):
    """This module's counters and histograms as kept in this process (without the default registry's others)."""

    def collect(self) -> Iterator[Metric]:
        for metric in sending_metrics().all():
            yield from metric.collect()
