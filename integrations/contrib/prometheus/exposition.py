"""What /metrics answers: the sending processes' counters, and gauges read at scrape time from the
figures /healthz reads (integrations.status)."""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from ...conf import conf
from ...status import system_status
from .metrics import MULTIPROCESS_DIR_VARIABLE, sending_metrics


class SystemCollector(Collector):
    """The gauges read at scrape time, from the figures /healthz reads: a part that does not answer
    gives `…_up 0` and no figures of its own."""

    def collect(self) -> Iterator[Metric]:
        system = system_status(with_endpoint_states=True)
        yield GaugeMetricFamily(
            f"{conf.METRICS_PREFIX}_database_up",
            "1 when the database answered this scrape.",
            value=int(system.database),
        )
        yield GaugeMetricFamily(
            f"{conf.METRICS_PREFIX}_redis_up", "1 when Redis answered this scrape.", value=int(system.redis)
        )
        if system.backlog is not None:
            yield GaugeMetricFamily(
                f"{conf.METRICS_PREFIX}_deliveries_due",
                "Deliveries due now to endpoints that are on and not cooling down.",
                value=system.backlog.due,
            )
            yield GaugeMetricFamily(
                f"{conf.METRICS_PREFIX}_oldest_due_age_seconds",
                "How long the oldest of those has been due (0 when none is).",
                value=system.backlog.oldest_age(system.checked_at),
            )
        if system.endpoint_states is not None:
            endpoints = GaugeMetricFamily(
                f"{conf.METRICS_PREFIX}_endpoints",
                "Endpoints by state: active, failing, waiting (circuit breaker open), paused, disabled.",
                labels=["state"],
            )
            for state, count in system.endpoint_states.items():
                endpoints.add_metric([state], count)
            yield endpoints
        queue = system.queue
        if queue is not None:
            jobs = GaugeMetricFamily(
                f"{conf.METRICS_PREFIX}_queue_jobs",
                "Jobs of the webhooks queue: queued (waiting for a worker), scheduled (retries to come), failed.",
                labels=["state"],
            )
            jobs.add_metric(["queued"], queue.queued)
            jobs.add_metric(["scheduled"], queue.scheduled)
            jobs.add_metric(["failed"], queue.failed)
            yield jobs
            yield GaugeMetricFamily(
                f"{conf.METRICS_PREFIX}_workers", "Workers registered on the webhooks queue.", value=queue.workers
            )
            if queue.last_job_finished_at is not None:
                yield GaugeMetricFamily(
                    f"{conf.METRICS_PREFIX}_worker_last_job_finished_timestamp_seconds",
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
