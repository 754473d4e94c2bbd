"""Sending a webhook's due deliveries: one sender per webhook, claims with a lease, signed POSTs, records."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import F, Min, Q
from django.utils import timezone

from . import signing, telemetry, transport
from .conf import conf
from .health import webhook_attempt_timeout, webhook_is_troubled, webhook_record_failure, webhook_record_success
from .models import Delivery, DeliveryAttempt, Webhook
from .queue import webhook_wake, webhook_wake_at
from .retry import parse_retry_after, retry_delay
from .sender import Lanes, Seat, attempt_pool
from .signals import delivery_failed, send_on_commit
from .status import worker_job_finished
from .storable import storable_text
from .tallies import Tallied, attempts_tally
from .webhooks import webhook_signing_secrets

logger = logging.getLogger(__name__)

# Answers whose Retry-After we honour (bounded by the schedule).
RETRY_AFTER_STATUSES = {429, 503}
# An attempt's error as kept in the log: enough for any message we write, bounded for what a receiver sends.
ERROR_STORE_LIMIT = 1000
CLAIMED_FIELDS = (
    "id",
    "webhook_id",
    "attempt_count",
    "claim_token",
    "claims_without_attempt",
    "created_at",
    "resend_count",
    "event__id",
    "event__body",
)
# Attempts to a healthy endpoint overlap once it takes this long to answer (a loopback answer takes less).
OVERLAP_AFTER_MS = 2
# An endpoint in trouble whose lane is full tries again this much later (its deliveries wait in the database).
LANE_FULL_RETRY_SECONDS = 1.0


@dataclass
class DrainResult:
    sent: int = 0
    more_due: bool = False


def deliveries_claim(*, webhook_id: int, limit: int) -> list[Delivery]:
    """Claim up to `limit` due deliveries; the conditional UPDATE lets only one claimer win each row."""
    token = uuid.uuid4()
    with transaction.atomic():
        # The lease starts once the transaction holds its lock (SQLite's writers wait for each other).
        now = timezone.now()
        due = Delivery.objects.claimable(now).filter(webhook_id=webhook_id).order_by("next_attempt_at", "id")
        lease_until = now + timedelta(seconds=conf.CLAIM_LEASE_SECONDS)
        if connection.features.has_select_for_update_skip_locked:
            # PostgreSQL: rows another claimer is updating are skipped rather than waited for.
            due = due.select_for_update(skip_locked=True)
        due_ids = list(due.values_list("id", flat=True)[:limit])
        if not due_ids:
            return []
        Delivery.objects.claimable(now).filter(id__in=due_ids).update(
            claimed_until=lease_until, claim_token=token, claims_without_attempt=F("claims_without_attempt") + 1
        )
    claimed = Delivery.objects.claimed_by(token).select_related("event").order_by("next_attempt_at", "id")
    # Only what sending and recording read: a claimed row costs less to load.
    return list(claimed.only(*CLAIMED_FIELDS))


def deliveries_release(*, deliveries: list[Delivery]) -> None:
    """Give back claims this job will not use, so that the next job can take them at once."""
    Delivery.objects.filter(
        id__in=[delivery.pk for delivery in deliveries], claim_token__in={d.claim_token for d in deliveries}
    ).update(claimed_until=None, claim_token=None, claims_without_attempt=F("claims_without_attempt") - 1)


class SuccessLedger:
    """Successful attempts of one job, written together: one bulk insert and one UPDATE a few at a time.

    A failure is written at once (after the successes before it, so the webhook's health sees
    them in order). A worker that dies before a write leaves those deliveries claimed; they are
    sent again when the claim expires, with the same webhook-id: at least once, as promised.
    """

    def __init__(self, webhook: Webhook) -> None:
        self.webhook = webhook
        self.entries: list[tuple[Delivery, DeliveryAttempt]] = []
        self.first_at = 0.0

    def add(self, delivery: Delivery, attempt: DeliveryAttempt) -> None:
        if not self.entries:
            self.first_at = time.monotonic()
        self.entries.append((delivery, attempt))
        recovering = self.webhook.consecutive_failures or self.webhook.breaker_open_until is not None
        if (
            recovering  # the first success after failures closes the breaker now, not later
            or len(self.entries) >= conf.LEDGER_SIZE
            or time.monotonic() - self.first_at >= conf.LEDGER_SECONDS
        ):
            self.write()

    def write(self) -> None:
        if not self.entries:
            return
        entries, self.entries = self.entries, []
        latest = max((attempt for _, attempt in entries), key=lambda attempt: attempt.attempted_at)
        attempts_record(entries=entries, changes=_succeeded_changes(latest))
        webhook_record_success(webhook=self.webhook)


def _recorded_changes(attempt: DeliveryAttempt) -> dict[str, Any]:
    """What every recorded attempt changes on its delivery: one more attempt, and the claim let go."""
    return {
        "attempt_count": F("attempt_count") + 1,
        "last_attempt_at": attempt.attempted_at,
        "claimed_until": None,
        "claim_token": None,
        "claims_without_attempt": 0,
    }


def _succeeded_changes(attempt: DeliveryAttempt) -> dict[str, Any]:
    return {**_recorded_changes(attempt), "status": Delivery.Status.SUCCEEDED, "next_attempt_at": None}


def _failed_changes(attempt: DeliveryAttempt, *, retry_in: float | None) -> dict[str, Any]:
    """A retry `retry_in` seconds from now, or failed for good when None."""
    if retry_in is None:
        return {**_recorded_changes(attempt), "status": Delivery.Status.FAILED, "next_attempt_at": None}
    return {**_recorded_changes(attempt), "next_attempt_at": timezone.now() + timedelta(seconds=retry_in)}


def _attempts_write(entries: list[tuple[Delivery, DeliveryAttempt]], changes: dict[str, Any]) -> None:
    ids = [delivery.pk for delivery, _ in entries]
    with transaction.atomic():
        updated = 0
        for token in {delivery.claim_token for delivery, _ in entries}:
            # Only while the claim is ours: a worker whose lease ran out must not overwrite a newer state.
            updated += Delivery.objects.claimed_by(token).filter(id__in=ids).update(**changes)
        # The attempts happened either way; they have nowhere to go only if their delivery was pruned meanwhile.
        existing = (
            set(ids) if updated == len(ids) else set(Delivery.objects.filter(id__in=ids).values_list("id", flat=True))
        )
        written = [(delivery, attempt) for delivery, attempt in entries if delivery.pk in existing]
        DeliveryAttempt.objects.bulk_create([attempt for _, attempt in written])
        attempts_tally(
            Tallied(
                webhook_id=delivery.webhook_id,
                attempted_at=attempt.attempted_at,
                succeeded=attempt.succeeded,
                duration_ms=attempt.duration_ms,
            )
            for delivery, attempt in written
            if delivery.webhook_id is not None
        )


def attempts_record(*, entries: list[tuple[Delivery, DeliveryAttempt]], changes: dict[str, Any]) -> None:
    """The one write of attempts' outcomes: the attempts, and their deliveries' next state (`changes`).

    Successes come in batches (the ledger), a failure as a batch of one. If the database refuses
    a batch, each attempt is written alone; if it refuses an attempt, a plainer one is written:
    the receiver's text is cleaned before it gets here, and this is the last line of defence, so
    that no answer can leave a delivery claimed with nothing on record (and sent again without end).
    """
    try:
        _attempts_write(entries, changes)
    except DatabaseError as error:
        logger.exception("webhook deliveries %s: the attempts could not be recorded as they were", entries[0][0].pk)
        if len(entries) > 1:
            for entry in entries:
                attempts_record(entries=[entry], changes=changes)
            return
        delivery, attempt = entries[0]
        plain = DeliveryAttempt(
            delivery=delivery,
            attempted_at=attempt.attempted_at,
            url=attempt.url,
            succeeded=attempt.succeeded,
            status_code=attempt.status_code,
            duration_ms=attempt.duration_ms,
            # Plain ASCII, every other character escaped: a second way of cleaning, independent of the first.
            error=(
                attempt.error.encode("unicode_escape").decode("ascii")[:ERROR_STORE_LIMIT]
                + f" (The answer could not be stored: {type(error).__name__}.)"
            ).strip(),
        )
        _attempts_write([(delivery, plain)], changes)


def _attempt_send(
    *, delivery: Delivery, webhook: Webhook, secrets: Sequence[str], timeout: float
) -> transport.TransportResult:
    """One signed POST; whatever raises on the way is a failed attempt with a readable error, not a crash.

    No database access: this may run on a thread of the attempt pool.
    """
    started = time.monotonic()
    try:
        event = delivery.event
        signed = signing.request_headers(
            msg_id=event.msg_id, timestamp=int(time.time()), body=event.body, secrets=secrets
        )
        # The admin's headers first: ours win, though validation already refuses a custom one of those names.
        custom = {header["name"]: header["value"] for header in webhook.custom_headers}
        result = transport.post(
            url=webhook.url, body=event.body.encode(), headers={**custom, **signed}, timeout=timeout
        )
        return replace(result, request_headers=signing.headers_for_log(signed, custom_names=list(custom)))
    except Exception as error:
        logger.exception("webhook %s delivery %s: the sender failed", webhook.pk, delivery.pk)
        return transport.TransportResult(
            status_code=None,
            body=b"",
            error=f"Not sent: the sender failed ({type(error).__name__}).",
            duration_ms=int((time.monotonic() - started) * 1000),
            not_sent=True,
        )


# A receiver's headers as kept in the log: enough to debug with, bounded whatever it sends.
RESPONSE_HEADERS_MAX = 30
RESPONSE_HEADER_VALUE_LIMIT = 500


def _storable_headers(headers: dict[str, str]) -> dict[str, str]:
    return {
        storable_text(name, limit=100): storable_text(value, limit=RESPONSE_HEADER_VALUE_LIMIT)
        for name, value in list(headers.items())[:RESPONSE_HEADERS_MAX]
    }


def _retry_in(*, result: transport.TransportResult, attempts_made: int, at: datetime) -> float | None:
    retry_after = (
        parse_retry_after(result.headers.get("Retry-After"), now=at)
        if result.status_code in RETRY_AFTER_STATUSES
        else None
    )
    return retry_delay(
        attempts_made=attempts_made, schedule=conf.RETRY_SCHEDULE, jitter=conf.RETRY_JITTER, retry_after=retry_after
    )


def delivery_send(
    *, delivery: Delivery, webhook: Webhook, ledger: SuccessLedger, secrets: Sequence[str]
) -> DeliveryAttempt:
    """One signed POST of a claimed delivery, recorded with the delivery's next state and the webhook's health."""
    attempted_at = timezone.now()
    result = _attempt_send(
        delivery=delivery, webhook=webhook, secrets=secrets, timeout=webhook_attempt_timeout(webhook)
    )
    return _attempt_finish(delivery=delivery, webhook=webhook, ledger=ledger, attempted_at=attempted_at, result=result)


def _attempt_finish(
    *,
    delivery: Delivery,
    webhook: Webhook,
    ledger: SuccessLedger,
    attempted_at: datetime,
    result: transport.TransportResult,
) -> DeliveryAttempt:
    """Record an attempt: a success with the ledger's next batch, a failure at once.

    Whatever the receiver answered, and whatever raised, the attempt ends on record.
    """
    error = result.error
    if not result.succeeded and not error and result.status_code is not None:
        error = f"The receiver answered HTTP {result.status_code}."
    healthy_before = not webhook_is_troubled(webhook)
    attempt = DeliveryAttempt(
        delivery=delivery,
        attempted_at=attempted_at,
        url=webhook.url,
        succeeded=result.succeeded,
        status_code=result.status_code,
        duration_ms=result.duration_ms,
        request_headers=result.request_headers,
        response_headers=_storable_headers(result.headers),
        response_body=storable_text(result.body, limit=conf.RESPONSE_STORE_LIMIT),
        error=storable_text(error, limit=ERROR_STORE_LIMIT),
    )
    attempts_made = delivery.attempt_count + 1
    retry_at = None
    if result.succeeded:
        ledger.add(delivery, attempt)
    else:
        ledger.write()  # the successes before this failure first, for the health counters
        retry_in = _retry_in(result=result, attempts_made=attempts_made, at=attempted_at)
        changes = _failed_changes(attempt, retry_in=retry_in)
        retry_at = changes["next_attempt_at"]
        with transaction.atomic():
            attempts_record(entries=[(delivery, attempt)], changes=changes)
            webhook_record_failure(
                webhook=webhook, at=attempted_at, gone=result.status_code == 410, timed_out=result.timed_out
            )
            if retry_in is None:
                send_on_commit(delivery_failed, Delivery, delivery=delivery, webhook=webhook, error=attempt.error)
    telemetry.attempt_recorded(
        webhook=webhook,
        delivery=delivery,
        attempt_number=attempts_made,
        attempted_at=attempted_at,
        result=result,
        error=attempt.error,
        retry_at=retry_at,
        healthy_before=healthy_before,
    )
    return attempt


def delivery_give_up(*, delivery: Delivery, webhook: Webhook) -> DeliveryAttempt:
    """Fail a delivery whose claims kept expiring with nothing on record, instead of sending it again."""
    now = timezone.now()
    attempt = DeliveryAttempt(
        delivery=delivery,
        attempted_at=now,
        url=webhook.url,
        succeeded=False,
        duration_ms=0,
        error=(
            f"Not sent again: the last {delivery.claims_without_attempt - 1} tries to send this notification "
            "ended with nothing on record (the worker sending it stopped mid-attempt each time). "
            "Resend it from the delivery log once the cause is fixed."
        ),
    )
    with transaction.atomic():
        attempts_record(entries=[(delivery, attempt)], changes=_failed_changes(attempt, retry_in=None))
        webhook_record_failure(webhook=webhook, at=now)
        send_on_commit(delivery_failed, Delivery, delivery=delivery, webhook=webhook, error=attempt.error)
    telemetry.attempt_recorded(
        webhook=webhook,
        delivery=delivery,
        attempt_number=delivery.attempt_count + 1,
        attempted_at=now,
        result=transport.TransportResult(status_code=None, body=b"", error=attempt.error, duration_ms=0, not_sent=True),
        error=attempt.error,
        retry_at=None,
        healthy_before=False,
    )
    return attempt


def _sending_acquire(webhook_id: int) -> datetime | None:
    """Become the one sender of this webhook; None when another live job is."""
    now = timezone.now()
    until = now + timedelta(seconds=conf.CLAIM_LEASE_SECONDS)
    acquired = (
        Webhook.objects.filter(pk=webhook_id, is_active=True)
        .filter(Q(sending_until__isnull=True) | Q(sending_until__lt=now))
        .update(sending_until=until)
    )
    return until if acquired else None


def _sending_release(webhook_id: int, until: datetime) -> None:
    Webhook.objects.filter(pk=webhook_id, sending_until=until).update(sending_until=None)


def webhook_next_due(*, webhook_id: int, now: datetime) -> datetime | None:
    """When the webhook's next unclaimed pending delivery is due (in the past when one is due now)."""
    pending = Delivery.objects.unclaimed(now).filter(webhook_id=webhook_id, status=Delivery.Status.PENDING)
    next_due: datetime | None = pending.aggregate(at=Min("next_attempt_at"))["at"]
    return next_due


def webhook_deliver_due(*, webhook_id: int, seat: Seat | None = None, lanes: Lanes | None = None) -> DrainResult:
    """Send the webhook's due deliveries, bounded in count and time; queue whatever remains.

    On a worker's sender, `seat` and `lanes` say which lane the endpoint is in: an endpoint in
    trouble moves to the troubled lane first, or waits a moment when that lane is full.
    """
    try:
        return _deliver_due(webhook_id=webhook_id, seat=seat, lanes=lanes)
    finally:
        worker_job_finished()  # for /healthz and /metrics: the workers are working


def _deliver_due(*, webhook_id: int, seat: Seat | None, lanes: Lanes | None) -> DrainResult:
    outcome = DrainResult()
    until = _sending_acquire(webhook_id)
    if until is None:
        # Another job is sending to this endpoint; it checks for new deliveries before it lets go.
        return outcome
    lane_full = False
    try:
        webhook = Webhook.objects.get(pk=webhook_id)
        cooling = webhook.breaker_open(timezone.now())
        if seat is not None and lanes is not None and webhook_is_troubled(webhook) and not cooling:
            lane_full = not lanes.move_to_troubled(seat)
        if not lane_full:
            ledger = SuccessLedger(webhook)
            try:
                _drain(webhook, outcome, ledger, seat)
            finally:
                ledger.write()
    finally:
        _sending_release(webhook_id, until)
    if lane_full:
        webhook_wake_at(webhook_id=webhook_id, when=timezone.now() + timedelta(seconds=LANE_FULL_RETRY_SECONDS))
        return outcome
    state = Webhook.objects.filter(pk=webhook_id).only("is_active", "breaker_open_until").first()
    if state is None or not state.is_active:
        return outcome
    now = timezone.now()
    if state.breaker_open(now):
        webhook_wake_at(webhook_id=webhook_id, when=state.breaker_open_until)  # type: ignore[arg-type]
        return outcome
    next_due = webhook_next_due(webhook_id=webhook_id, now=now)
    if outcome.more_due or (next_due is not None and next_due <= now):
        # A fresh job, behind other webhooks' jobs in the queue, so one busy webhook cannot hog a worker;
        # also catches deliveries committed while this job held the sender's place.
        webhook_wake(webhook_id=webhook_id)
    elif next_due is not None:
        webhook_wake_at(webhook_id=webhook_id, when=next_due)
    return outcome


# When each paced endpoint's last attempt started (monotonic), kept across jobs: one job sends to an
# endpoint at a time, so its next job in this process carries on the same pace.
_paced_last: dict[int, float] = {}
_paced_lock = threading.Lock()


@dataclass
class _InFlight:
    delivery: Delivery
    attempted_at: datetime
    started: float


class _Drain:
    """One job's sends to one endpoint: claimed batches, up to the endpoint's window of attempts in flight.

    The window is one attempt at a time until the endpoint answers with a success in this job (a
    hanging endpoint never holds more than one slot), and again after any failure, while probing
    after a cool-down, and while the endpoint is in the troubled lane. Attempts overlap only when
    the receiver takes a while to answer: a fast one is sent to one attempt after another, which
    costs less than handing attempts between threads.
    """

    def __init__(self, webhook: Webhook, outcome: DrainResult, ledger: SuccessLedger, seat: Seat | None) -> None:
        self.webhook = webhook
        self.outcome = outcome
        self.ledger = ledger
        self.seat = seat
        self.started = time.monotonic()
        self.probing = webhook.breaker_open_until is not None  # after a cool-down, one probe decides
        self.overlap = False  # the last answer was a success that took a while
        self.secrets = webhook_signing_secrets(webhook=webhook)
        self.in_flight: dict[Future[transport.TransportResult], _InFlight] = {}
        self.claimed_at = time.monotonic()

    def window(self) -> int:
        if (
            self.webhook.max_rate  # a paced endpoint gets one attempt at a time, spaced out
            or self.probing
            or not self.overlap
            or webhook_is_troubled(self.webhook)
            or (self.seat is not None and self.seat.troubled)
        ):
            return 1
        return conf.ENDPOINT_CONCURRENCY

    def _attempting(self) -> None:
        if self.seat is not None:
            self.seat.attempting_since = min((item.started for item in self.in_flight.values()), default=None)

    def _counted(self, attempt: DeliveryAttempt) -> None:
        self.outcome.sent += 1
        self.probing = False
        self.overlap = attempt.succeeded and attempt.duration_ms >= OVERLAP_AFTER_MS

    def stop_reason(self) -> str | None:
        now = time.monotonic()
        if now - self.started >= conf.JOB_MAX_SECONDS:
            return "out of time"
        # A claim must outlive the attempt and its recording, or another sender could take it meanwhile
        # (a database slow to write can age a batch's claims before the job's own limit is reached).
        claim_spare = max(
            1.0, conf.CLAIM_LEASE_SECONDS - webhook_attempt_timeout(self.webhook) - conf.LEDGER_SECONDS - 1
        )
        if now - self.claimed_at >= claim_spare:
            return "out of time"
        if not self.webhook.is_active or (self.webhook.breaker_open_until is not None and not self.probing):
            return "stopped"
        return None

    def send(self, batch: deque[Delivery], *, claimed_at: float) -> bool:
        """Send a claimed batch; False when the job must stop (what was not sent is given back)."""
        self.claimed_at = claimed_at
        go_on = True
        while batch or self.in_flight:
            while batch and go_on and len(self.in_flight) < self.window():
                reason = self.stop_reason()
                if reason is not None:
                    deliveries_release(deliveries=list(batch))
                    batch.clear()
                    self.outcome.more_due = reason == "out of time"
                    go_on = False
                    break
                delivery = batch.popleft()
                if delivery.claims_without_attempt > conf.CLAIMS_WITHOUT_ATTEMPT_MAX:
                    delivery_give_up(delivery=delivery, webhook=self.webhook)
                    continue
                if not self.in_flight and self.window() == 1:
                    self._send_here(delivery)
                else:
                    self._send_on_pool(delivery)
            if self.in_flight:
                self._record_answered()
        return go_on

    def _pace(self) -> None:
        """Hold the next attempt until the endpoint's maximum rate allows it (in this process)."""
        if not self.webhook.max_rate:
            return
        interval = 1.0 / self.webhook.max_rate
        with _paced_lock:
            now = time.monotonic()
            start = max(now, _paced_last.get(self.webhook.pk, 0.0) + interval)
            _paced_last[self.webhook.pk] = start
        if start > now:
            time.sleep(start - now)

    def _send_here(self, delivery: Delivery) -> None:
        self._pace()
        if self.seat is not None:
            self.seat.attempting_since = time.monotonic()
        try:
            attempt = delivery_send(delivery=delivery, webhook=self.webhook, ledger=self.ledger, secrets=self.secrets)
        finally:
            if self.seat is not None:
                self.seat.attempting_since = None
        self._counted(attempt)

    def _send_on_pool(self, delivery: Delivery) -> None:
        future = attempt_pool().submit(
            _attempt_send,
            delivery=delivery,
            webhook=self.webhook,
            secrets=self.secrets,
            timeout=webhook_attempt_timeout(self.webhook),
        )
        self.in_flight[future] = _InFlight(delivery, timezone.now(), time.monotonic())
        self._attempting()

    def _record_answered(self) -> None:
        done, _ = wait(self.in_flight, return_when=FIRST_COMPLETED)
        for future in done:
            item = self.in_flight.pop(future)
            attempt = _attempt_finish(
                delivery=item.delivery,
                webhook=self.webhook,
                ledger=self.ledger,
                attempted_at=item.attempted_at,
                result=future.result(),
            )
            self._counted(attempt)
        self._attempting()


def _drain(webhook: Webhook, outcome: DrainResult, ledger: SuccessLedger, seat: Seat | None) -> None:
    if webhook.breaker_open():
        return  # cooling down: nothing is attempted until it passes
    drain = _Drain(webhook, outcome, ledger, seat)
    while outcome.sent < conf.JOB_MAX_DELIVERIES:
        limit = 1 if drain.probing else min(conf.BATCH_SIZE, conf.JOB_MAX_DELIVERIES - outcome.sent)
        batch = deliveries_claim(webhook_id=webhook.pk, limit=limit)
        if not batch:
            return
        go_on = drain.send(deque(batch), claimed_at=time.monotonic())
        ledger.write()  # before claiming more: a lone delivery is recorded as soon as it is sent
        if not go_on or webhook.breaker_open_until is not None or not webhook.is_active or len(batch) < limit:
            return  # a short batch was all that was due; what came since, the caller's check finds
    outcome.more_due = True
