"""What an operator sees of sending: one log line per failed attempt and per change of an endpoint's
state, and the figures counted, wherever the installed counts go (`count_with`; the Prometheus part,
`integrations.contrib.prometheus`, installs its counters; without it nothing is counted).

Each line carries its figures as fields (`extra`), which a JSON formatter writes as keys, and says
them in its message too, for plain logs. Never a secret, a body, a header value or the endpoint's
URL (customers put tokens in its path and query; an error may name its host): ids, outcome, status
and duration are enough to find the rest.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from .models import Webhook
from .sending.claims import Claimed
from .sending.transport import TransportResult

logger = logging.getLogger(__name__)


class Counts:
    """Where the figures of sending are counted: nowhere, until an optional part installs a subclass that
    counts (`count_with`). Called on the sending path: each call must be quick."""

    def attempt(self, *, outcome: str, status_code: int | None, duration_s: float, first_lag_s: float | None) -> None:
        """An attempt made; `first_lag_s`: from the event's recording to its first attempt, when that says
        how long the system took (a first attempt, not a resend, to an endpoint that was not failing)."""

    def deliveries_failed(self, count: int) -> None:
        """Deliveries failed for good."""

    def endpoint_state_changed(self, state: str) -> None:
        """An endpoint changed to `state`."""


_counts = Counts()


def count_with(counts: Counts) -> None:
    """Count from now on with `counts`: an optional part installs its own, once, when its app is ready."""
    global _counts
    _counts = counts


def attempt_outcome(result: TransportResult) -> str:
    if result.succeeded:
        return "succeeded"
    if result.status_code is not None:
        return "http_error"
    if result.timed_out:
        return "timeout"
    return "not_sent" if result.not_sent else "connection_error"


def attempt_recorded(
    *,
    webhook: Webhook,
    delivery: Claimed,
    attempt_number: int,
    attempted_at: datetime,
    result: TransportResult,
    error: str,
    retry_at: datetime | None,
    healthy_before: bool,
) -> None:
    """Count an attempt; a failed one also gets its log line.

    `healthy_before`: the endpoint was not failing when this was sent; only then does a first
    attempt's lag say how long the system took, rather than how long a failing endpoint held it.
    """
    outcome = attempt_outcome(result)
    first = attempt_number == 1 and healthy_before and not delivery.resend_count
    _counts.attempt(
        outcome=outcome,
        status_code=result.status_code,
        duration_s=result.duration_ms / 1000,
        first_lag_s=max(0.0, (attempted_at - delivery.created_at).total_seconds()) if first else None,
    )
    if result.succeeded:
        return  # a line per success would cost more than the request at full speed
    if retry_at is None:
        _counts.deliveries_failed(1)
    fields = {
        "endpoint_id": webhook.pk,
        "account_id": webhook.account_id,
        "delivery_id": delivery.pk,
        "msg_id": delivery.msg_id,
        "attempt": attempt_number,
        "outcome": outcome,
        "status_code": result.status_code,
        "duration_ms": result.duration_ms,
        "error": error,
        "retry_at": retry_at.isoformat() if retry_at else None,
    }
    logger.warning(
        "attempt failed: endpoint %s delivery %s (%s) attempt %s: %s, %s in %s ms; %s",
        webhook.pk,
        delivery.pk,
        fields["msg_id"],
        attempt_number,
        outcome,
        result.status_code or "no answer",
        result.duration_ms,
        f"retry at {fields['retry_at']}" if retry_at else "failed for good",
        extra=fields,
    )


def deliveries_failed(count: int) -> None:
    """Deliveries failed for good together (an endpoint disabled with notifications on their way)."""
    if count:
        _counts.deliveries_failed(count)


# A change to one of these is a problem an operator may act on; the others are good news or an admin's choice.
TROUBLE_STATES = {"failing", "waiting", "disabled"}


def endpoint_state_changed(*, webhook: Webhook, state: str, reason: str, **figures: Any) -> None:
    """One line, and one count, per change of `Webhook.state` (active, failing, waiting, paused, disabled)."""
    _counts.endpoint_state_changed(state)
    fields = {"endpoint_id": webhook.pk, "account_id": webhook.account_id, "state": state, "reason": reason, **figures}
    (logger.warning if state in TROUBLE_STATES else logger.info)(
        "endpoint %s is now %s: %s", webhook.pk, state, reason, extra=fields
    )
