"""The sender's database side: every read and write of sending, batched, called from one thread.

Each function is one short transaction over many endpoints or many attempts (never one per
attempt), made of the models' named transitions: the sending lease (`acquire_sending`,
`renew_sending`, `release_sending`), and a delivery's `claim`, `release`, `record_success`,
`schedule_retry`, `fail` and `give_up`. Nothing here touches the network.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import Min
from django.db.models.expressions import RawSQL
from django.utils import timezone

from .. import telemetry
from ..conf import conf
from ..health import EndpointHealth, Transition, health_save
from ..models import Delivery, DeliveryAttempt, EndpointHour, Webhook
from ..rows import rows_insert
from ..signals import delivery_failed, send_on_commit
from ..storable import storable_text
from ..tallies import Tallied, attempts_tally, hour_of
from .claims import CLAIMED_COLUMNS, Claimed
from .transport import TransportResult, storable_headers

logger = logging.getLogger(__name__)

# An attempt's error as kept in the log: enough for any message we write, bounded for what a receiver sends.
ERROR_STORE_LIMIT = 1000
# An endpoint whose last success is this recent opens its window at once; others probe with one attempt first.
WARM_WITHIN = timedelta(hours=24)


# --- the sending lease -----------------------------------------------------------------------


@dataclass
class Acquired:
    webhook: Webhook
    # A success in the last WARM_WITHIN and no failure since: its window opens at once.
    warm: bool


def endpoints_acquire(*, owner: uuid.UUID, webhook_ids: list[int]) -> list[Acquired]:
    """Become the one sender of these endpoints where no other worker is; the ones taken, fresh from the database."""
    now = timezone.now()
    until = now + timedelta(seconds=conf.CLAIM_LEASE_SECONDS)
    taken = Webhook.objects.filter(pk__in=webhook_ids).acquire_sending(owner=owner, until=until, now=now)
    if not taken:
        return []
    webhooks = list(Webhook.objects.filter(pk__in=taken))
    warm = set(
        EndpointHour.objects.filter(webhook_id__in=taken, hour__gte=hour_of(now - WARM_WITHIN), succeeded__gt=0)
        .values_list("webhook_id", flat=True)
        .distinct()
    )
    return [Acquired(webhook, webhook.pk in warm and not webhook.consecutive_failures) for webhook in webhooks]


def endpoints_renew(*, owner: uuid.UUID) -> None:
    until = timezone.now() + timedelta(seconds=conf.CLAIM_LEASE_SECONDS)
    Webhook.objects.renew_sending(owner=owner, until=until)


@dataclass(frozen=True)
class NextDue:
    """When a released endpoint needs a sender again: now, later, or never (nothing pending)."""

    webhook_id: int
    at: datetime | None


def endpoints_release(*, owner: uuid.UUID, webhook_ids: list[int]) -> list[NextDue]:
    """Let go of these endpoints; then when each has work again (committed meanwhile, a retry, a cool-down's end).

    Asked after letting go: a delivery committed while we held the lease woke no one else.
    """
    Webhook.objects.filter(pk__in=webhook_ids).release_sending(owner=owner)
    active = {
        webhook.pk: webhook.breaker_open_until
        for webhook in Webhook.objects.filter(pk__in=webhook_ids, is_active=True).only("id", "breaker_open_until")
    }
    pending = next_due(webhook_ids=list(active), now=timezone.now())
    due = []
    for webhook_id, breaker_until in active.items():
        at = pending.get(webhook_id)
        if at is not None and breaker_until is not None and breaker_until > at:
            at = breaker_until  # cooling down: one probe when it ends
        due.append(NextDue(webhook_id, at))
    return due


def next_due(*, webhook_ids: list[int], now: datetime) -> dict[int, datetime]:
    """When each endpoint's next unclaimed pending delivery is due (in the past when one is due now)."""
    return dict(
        Delivery.objects.unclaimed(now)
        .filter(webhook_id__in=webhook_ids, status=Delivery.Status.PENDING)
        .values("webhook_id")
        .annotate(at=Min("next_attempt_at"))
        .values_list("webhook_id", "at")
    )


def webhooks_refresh(*, webhook_ids: list[int]) -> dict[int, Webhook]:
    """The endpoints as an admin may have just changed them (URL, secrets, headers, pause); gone ones are missing."""
    return {webhook.pk: webhook for webhook in Webhook.objects.filter(pk__in=webhook_ids)}


# --- claims ------------------------------------------------------------------------------------


def deliveries_claim(wants: dict[int, int]) -> dict[int, list[Claimed]]:
    """Claim, for each endpoint, up to its number of due deliveries, oldest first: one UPDATE for them all.

    Each endpoint's share is read from its own index range (webhook, status, next_attempt_at) with a
    LIMIT, whatever its backlog; the shares are one statement (UNION ALL). The conditional UPDATE
    lets only one claimer win each row.
    """
    wants = {webhook_id: count for webhook_id, count in wants.items() if count > 0}
    if not wants:
        return {}
    token = uuid.uuid4()
    with transaction.atomic():
        # The lease starts once the transaction holds its lock (SQLite's writers wait for each other).
        now = timezone.now()
        shares, params = _due_shares(wants, now)
        # Every value is a parameter; the SQL is ours (_due_shares).
        claimed = Delivery.objects.filter(id__in=RawSQL(shares, params)).claim(  # noqa: S611
            token=token, now=now, until=now + timedelta(seconds=conf.CLAIM_LEASE_SECONDS)
        )
    by_webhook: dict[int, list[Claimed]] = defaultdict(list)
    if claimed:
        rows = Delivery.objects.claimed_by(token).order_by("next_attempt_at", "id").values_list(*CLAIMED_COLUMNS)
        for row in rows:
            delivery = Claimed(*row)
            by_webhook[delivery.webhook_id].append(delivery)
    return by_webhook


def _due_shares(wants: dict[int, int], now: datetime) -> tuple[str, list[Any]]:
    """SQL for the ids of each endpoint's oldest due, unclaimed deliveries (the claimable() rows), up to its count."""
    table = connection.ops.quote_name(Delivery._meta.db_table)
    at = connection.ops.adapt_datetimefield_value(now)
    # Our own table's name, quoted; every value is a parameter.
    share = (
        f"SELECT * FROM (SELECT id FROM {table} WHERE webhook_id = %s AND status = %s AND next_attempt_at <= %s"  # noqa: S608
        " AND (claimed_until IS NULL OR claimed_until < %s) ORDER BY next_attempt_at, id LIMIT %s) AS share"
    )
    params: list[Any] = []
    for webhook_id, count in wants.items():
        params += [webhook_id, Delivery.Status.PENDING, at, at, count]
    return " UNION ALL ".join([share] * len(wants)), params


def deliveries_release(deliveries: list[Claimed]) -> None:
    """Give back claims that will not be used, so that the next sender can take them at once."""
    if deliveries:
        Delivery.objects.filter(id__in=[delivery.id for delivery in deliveries]).release(
            tokens={delivery.claim_token for delivery in deliveries}
        )


# --- outcomes ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """One attempt and what it decided: the delivery's next state and the endpoint's health after it."""

    delivery: Claimed
    webhook: Webhook
    attempted_at: datetime
    result: TransportResult
    # None: succeeded or failed for good; else when to try again.
    retry_at: datetime | None
    health: EndpointHealth
    transition: Transition | None
    healthy_before: bool
    # Not sent at all: its claims kept expiring with nothing on record.
    given_up: bool = False

    @property
    def error(self) -> str:
        error = self.result.error
        if not self.result.succeeded and not error and self.result.status_code is not None:
            error = f"The receiver answered HTTP {self.result.status_code}."
        return error


def _attempt(outcome: Outcome) -> DeliveryAttempt:
    result = outcome.result
    return DeliveryAttempt(
        delivery_id=outcome.delivery.id,
        attempted_at=outcome.attempted_at,
        url=outcome.webhook.url,
        succeeded=result.succeeded,
        status_code=result.status_code,
        duration_ms=result.duration_ms,
        request_headers=result.request_headers,
        response_headers=storable_headers(result.raw_headers),
        response_body=storable_text(result.body, limit=conf.RESPONSE_STORE_LIMIT),
        error=storable_text(outcome.error, limit=ERROR_STORE_LIMIT),
    )


def outcomes_record(outcomes: list[Outcome]) -> None:
    """The one write of attempts: the attempts, their deliveries' next states, the endpoints' counts and health.

    One transaction for a batch. If the database refuses it, each outcome is written alone; if it
    refuses one, a plainer attempt is written: the receiver's text is cleaned before it gets here,
    and this is the last line of defence, so that no answer can leave a delivery claimed with
    nothing on record (and sent again without end).
    """
    entries = [(outcome, _attempt(outcome)) for outcome in outcomes]
    try:
        _write(entries)
    except DatabaseError:
        logger.exception(
            "webhook deliveries %s: the attempts could not be recorded as they were", outcomes[0].delivery.pk
        )
        for outcome, attempt in entries:
            try:
                _write([(outcome, attempt)])
            except DatabaseError as error:
                if len(entries) == 1:
                    logger.exception("webhook delivery %s: the attempt could not be recorded", outcome.delivery.pk)
                _write([(outcome, _plainer(attempt, error))])
    for outcome, attempt in entries:
        telemetry.attempt_recorded(
            webhook=outcome.webhook,
            delivery=outcome.delivery,
            attempt_number=outcome.delivery.attempt_count + 1,
            attempted_at=outcome.attempted_at,
            result=outcome.result,
            error=attempt.error,
            retry_at=outcome.retry_at,
            healthy_before=outcome.healthy_before,
        )


def _plainer(attempt: DeliveryAttempt, error: DatabaseError) -> DeliveryAttempt:
    return DeliveryAttempt(
        delivery_id=attempt.delivery_id,
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


def _write(entries: list[tuple[Outcome, DeliveryAttempt]]) -> None:
    with transaction.atomic():
        moved = _deliveries_move(entries)
        # Every delivery moved (the usual case): each row is there, and the attempts need no look for them.
        attempts_write([(attempt, outcome.webhook.pk) for outcome, attempt in entries], present=moved == len(entries))
        _health_save(entries)


def attempts_write(attempts: list[tuple[DeliveryAttempt, int | None]], *, present: bool = False) -> None:
    """The attempts, and the counts (tallies) of the endpoint each was sent to, in one transaction.

    `present`: the caller knows every attempt's delivery is there (it changed them in this transaction).
    """
    with transaction.atomic():
        written = attempts
        if not present:
            # The attempts happened either way; they have nowhere to go only if their delivery was deleted meanwhile.
            ids = {attempt.delivery_id for attempt, _ in attempts}
            existing = set(Delivery.objects.filter(id__in=ids).values_list("id", flat=True))
            written = [(attempt, webhook_id) for attempt, webhook_id in attempts if attempt.delivery_id in existing]
        rows_insert([attempt for attempt, _ in written])  # bulk_create costs more than the attempt's POST
        attempts_tally(
            Tallied(
                webhook_id=webhook_id,
                attempted_at=attempt.attempted_at,
                succeeded=attempt.succeeded,
                duration_ms=attempt.duration_ms,
            )
            for attempt, webhook_id in written
            if webhook_id is not None
        )


def _deliveries_move(entries: list[tuple[Outcome, DeliveryAttempt]]) -> int:
    """Each delivery's next state: the successes in one UPDATE, each retry or failure in its own.

    Returns how many deliveries moved (one whose claim is no longer ours, or that is gone, does not).
    """
    moved = 0
    successes = [outcome for outcome, _ in entries if outcome.result.succeeded]
    if successes:
        moved += Delivery.objects.filter(id__in=[outcome.delivery.pk for outcome in successes]).record_success(
            tokens={outcome.delivery.claim_token for outcome in successes},
            at=max(outcome.attempted_at for outcome in successes),
        )
    for outcome, attempt in entries:
        if outcome.result.succeeded:
            continue
        one = Delivery.objects.filter(pk=outcome.delivery.pk)
        tokens = [outcome.delivery.claim_token]
        if outcome.given_up:
            moved += one.give_up(tokens=tokens, at=outcome.attempted_at)
        elif outcome.retry_at is None:
            moved += one.fail(tokens=tokens, at=outcome.attempted_at)
        else:
            moved += one.schedule_retry(tokens=tokens, at=outcome.attempted_at, retry_at=outcome.retry_at)
        if outcome.retry_at is None:
            failed = Delivery.objects.filter(pk=outcome.delivery.id).first()
            if failed is not None:
                send_on_commit(delivery_failed, Delivery, delivery=failed, webhook=outcome.webhook, error=attempt.error)
    return moved


def _health_save(entries: list[tuple[Outcome, DeliveryAttempt]]) -> None:
    """Each change of an endpoint's state in order, then its health as the last attempt left it."""
    last: dict[int, Outcome] = {}
    for outcome, _ in entries:
        if outcome.transition is not None:
            health_save(webhook=outcome.webhook, health=outcome.health, transition=outcome.transition)
        last[outcome.webhook.pk] = outcome
    for outcome in last.values():
        if outcome.transition is None and outcome.health != EndpointHealth.of(outcome.webhook):
            health_save(webhook=outcome.webhook, health=outcome.health, transition=None)
