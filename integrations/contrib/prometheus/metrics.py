"""Prometheus metrics of webhook delivery, served at /metrics.

Counters and histograms are kept by the processes that send (the workers). With
PROMETHEUS_MULTIPROC_DIR set in every process's environment before it starts, prometheus-client
keeps them in files in that directory, and /metrics, served by any web process, adds up every
process's files. Gauges (the backlog, endpoint states, the queue) are read when /metrics is asked.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import cache

from prometheus_client import Counter, Histogram

from ...conf import conf
from ...telemetry import Counts

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
    prefix = conf.METRICS_PREFIX
    return SendingMetrics(
        attempts=Counter(
            f"{prefix}_attempts",
            "Delivery attempts, by outcome (succeeded, http_error, timeout, connection_error, not_sent) and "
            "the receiver's HTTP status class (2xx to 5xx, or none without an answer).",
            ["outcome", "status_class"],
        ),
        attempt_duration=Histogram(
            f"{prefix}_attempt_duration_seconds",
            "How long delivery attempts took, from connecting to the end of the answer.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30),
        ),
        first_attempt_lag=Histogram(
            f"{prefix}_first_attempt_lag_seconds",
            "From an event's recording (the commit of the change that caused it) to its first attempt, "
            "to endpoints that were not failing; resends are not counted.",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
        ),
        deliveries_failed=Counter(
            f"{prefix}_deliveries_failed",
            "Deliveries failed for good: retries used up, the endpoint disabled, or sending gave up.",
        ),
        endpoint_state_changes=Counter(
            f"{prefix}_endpoint_state_changes",
            "Endpoints changing state, by the state they change to (failing, waiting, disabled, active, paused).",
            ["state"],
        ),
    )


def status_class(status_code: int | None) -> str:
    return f"{status_code // 100}xx" if status_code else "none"


class PrometheusCounts(Counts):
    """The core's figures, counted in this process's metrics."""

    def attempt(self, *, outcome: str, status_code: int | None, duration_s: float, first_lag_s: float | None) -> None:
        metrics = sending_metrics()
        metrics.attempts.labels(outcome, status_class(status_code)).inc()
        metrics.attempt_duration.observe(duration_s)
        if first_lag_s is not None:
            metrics.first_attempt_lag.observe(first_lag_s)

    def deliveries_failed(self, count: int) -> None:
        sending_metrics().deliveries_failed.inc(count)

    def endpoint_state_changed(self, state: str) -> None:
        sending_metrics().endpoint_state_changes.labels(state).inc()
