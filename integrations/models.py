"""Webhooks, the events recorded for them (the outbox), their deliveries and each attempt."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from .conf import conf
from .validators import (
    MAX_RATE_LIMIT,
    URL_MAX_LENGTH,
    validate_custom_headers,
    validate_event_types,
    validate_single_line,
    validate_webhook_url,
)

# The host's account model; when the setting is missing, a label that cannot resolve, so that
# `manage.py check` reports it (integrations.E010) instead of an import failing here.
ACCOUNT_MODEL = conf.ACCOUNT_MODEL or "integrations.AccountModelNotConfigured"
SECRET_PREFIX = "whsec_"  # noqa: S105 -- a prefix, not a secret


def subscribes(event_types: list[str], event_type: str) -> bool:
    """Whether an endpoint with these subscriptions receives `event_type` (none: every type, new ones too)."""
    return not event_types or event_type in event_types


# How much of an endpoint's URL a list shows.
LABEL_URL_LENGTH = 60


def new_signing_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookQuerySet(models.QuerySet["Webhook"]):
    def acquire_sending(self, *, owner: uuid.UUID, until: datetime, now: datetime) -> list[int]:
        """Take the sending lease of these endpoints where it is free (or ran out); the ids taken.

        A conditional UPDATE: of several workers asking at once, one gets each endpoint.
        """
        free = Q(sending_until__isnull=True) | Q(sending_until__lt=now) | Q(sending_by=owner)
        self.filter(free, is_active=True).update(sending_until=until, sending_by=owner)
        return list(self.filter(sending_by=owner, sending_until=until).values_list("id", flat=True))

    def renew_sending(self, *, owner: uuid.UUID, until: datetime) -> int:
        return self.filter(sending_by=owner).update(sending_until=until)

    def release_sending(self, *, owner: uuid.UUID) -> int:
        return self.filter(sending_by=owner).update(sending_until=None, sending_by=None)


class Webhook(models.Model):
    account = models.ForeignKey(ACCOUNT_MODEL, on_delete=models.CASCADE, related_name="webhooks")
    url = models.CharField("URL", max_length=URL_MAX_LENGTH, validators=[validate_webhook_url])
    description = models.CharField(max_length=200, blank=True, validators=[validate_single_line])
    # The event types this endpoint receives; empty means every type, including ones added later.
    event_types = models.JSONField(default=list, blank=True, validators=[validate_event_types])
    # Deliveries per second the sender may make to it; None: as fast as the endpoint answers.
    max_rate = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(MAX_RATE_LIMIT)]
    )
    # Extra request headers, [{"name": …, "value": …}]: shown again only masked, never logged.
    custom_headers = models.JSONField(default=list, blank=True, validators=[validate_custom_headers])
    secret = models.CharField(max_length=100, blank=True)
    # Rotated-out secrets, each signing (beside the current one) until its own expiry:
    # [{"secret": "whsec_…", "expires_at": "<ISO 8601>"}, …], at most RETIRED_SECRETS_MAX.
    retired_secrets = models.JSONField(default=list, blank=True)
    # False: paused by an admin (disabled_at empty) or disabled for failing (disabled_at set).
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Endpoint health: failures since the last success, and the circuit breaker they drive.
    consecutive_failures = models.PositiveIntegerField(default=0)
    # Of those, the timeouts in a row: a hanging endpoint gets less patience and the breaker sooner.
    consecutive_timeouts = models.PositiveIntegerField(default=0)
    failing_since = models.DateTimeField(null=True, blank=True)
    breaker_open_until = models.DateTimeField(null=True, blank=True)
    breaker_cooldown_seconds = models.PositiveIntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    # When the account's admins were told this endpoint is failing: one message per failing streak.
    failing_alert_at = models.DateTimeField(null=True, blank=True)
    # The sending lease: held by the one worker process sending this endpoint's deliveries (at most one
    # at a time, across every machine), renewed while it sends, let go when nothing is due.
    sending_until = models.DateTimeField(null=True, blank=True)
    sending_by = models.UUIDField(null=True, blank=True)

    objects = WebhookQuerySet.as_manager()

    class State(models.TextChoices):
        """What an endpoint's badge says; one word each, the same on every page, API and metric."""

        ACTIVE = "active"
        FAILING = "failing"  # its last attempt failed; retried on the schedule
        WAITING = "waiting"  # the breaker is open: nothing is attempted until it cools down
        PAUSED = "paused"  # turned off by an admin
        DISABLED = "disabled"  # turned off for failing (or 410 Gone)

    class Meta:
        ordering = ["account", "id"]

    def __str__(self) -> str:
        return self.url

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.secret:
            self.secret = new_signing_secret()
        super().save(*args, **kwargs)

    @property
    def is_paused(self) -> bool:
        return not self.is_active and self.disabled_at is None

    @property
    def label(self) -> str:
        """How lists name it: its URL (shortened), and its description when it has one, since two endpoints
        may share a URL."""
        url = self.url if len(self.url) <= LABEL_URL_LENGTH else self.url[: LABEL_URL_LENGTH - 1] + "…"
        return f"{url} ({self.description})" if self.description else url

    @property
    def state(self) -> Webhook.State:
        if not self.is_active:
            return Webhook.State.PAUSED if self.disabled_at is None else Webhook.State.DISABLED
        if self.breaker_open():
            return Webhook.State.WAITING
        return Webhook.State.FAILING if self.consecutive_failures else Webhook.State.ACTIVE

    def receives(self, event_type: str) -> bool:
        return subscribes(self.event_types, event_type)

    def breaker_open(self, now: datetime | None = None) -> bool:
        """Cooling down after failures: nothing is attempted until `breaker_open_until` passes."""
        return self.breaker_open_until is not None and self.breaker_open_until > (now or timezone.now())


class Event(models.Model):
    """One notification, recorded in the same transaction as the change that caused it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    account = models.ForeignKey(ACCOUNT_MODEL, on_delete=models.CASCADE, related_name="webhook_events")
    type = models.CharField(max_length=40)  # an event type's name (integrations.catalog): the host declares them
    # The exact bytes POSTed, kept as text so that every attempt sends the same body.
    body = models.TextField()
    # What the event is about: the values of the body's fields the adapter names in `subject_fields`
    # (a whole number and a text), for the API to filter on.
    subject_id = models.BigIntegerField(null=True, blank=True)
    subject_key = models.TextField(blank=True)
    # Sent by "Send example": an example body, not about a real object.
    is_example = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["account", "subject_id", "subject_key"], name="event_subject"),
            # The API's list, newest first: an account's page read from its own rows, not the whole table's.
            models.Index(fields=["account", "-created_at", "-id"], name="event_list"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.msg_id}"

    @property
    def msg_id(self) -> str:
        """The `webhook-id` header: the same on every attempt, so receivers can deduplicate."""
        return f"msg_{self.id.hex}"


class DeliveryQuerySet(models.QuerySet["Delivery"]):
    """The states a delivery goes through. Every change of state is one of the methods below, and
    nothing else writes `status`, `next_attempt_at` or the claim.

    pending (due at next_attempt_at) --claim--> claimed --record_success--> succeeded
                                                 |--schedule_retry--> pending, due later
                                                 |--fail / give_up--> failed
                                                 '--release--> pending (unclaimed, as it was)
    pending --finish--> failed or cancelled (an endpoint disabled or deleted)
    anything --restart--> pending, due now, a fresh schedule (a resend, re-enabling)
    """

    def due(self, now: datetime) -> DeliveryQuerySet:
        return self.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)

    def unclaimed(self, now: datetime) -> DeliveryQuerySet:
        """Held by no worker: never claimed, given back, or the claim's lease ran out (its worker died)."""
        return self.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))

    def sendable(self, now: datetime) -> DeliveryQuerySet:
        """Due, to an endpoint that is on and not cooling down: what the workers should be sending now."""
        return (
            self.due(now)
            .filter(webhook__is_active=True)
            .filter(Q(webhook__breaker_open_until__isnull=True) | Q(webhook__breaker_open_until__lte=now))
        )

    def claimable(self, now: datetime) -> DeliveryQuerySet:
        return self.due(now).unclaimed(now)

    def claimed_by(self, token: uuid.UUID | None) -> DeliveryQuerySet:
        return self.filter(claim_token=token)

    def claim(self, *, token: uuid.UUID, now: datetime, until: datetime) -> int:
        """Hold these (if still claimable) for one sender until `until`; read them back with claimed_by(token)."""
        return self.claimable(now).update(
            claimed_until=until, claim_token=token, claims_without_attempt=F("claims_without_attempt") + 1
        )

    def release(self, *, tokens: Iterable[uuid.UUID]) -> int:
        """Give back claims that were not used, as they were: the next sender takes them at once."""
        return self.filter(claim_token__in=list(tokens)).update(
            claimed_until=None, claim_token=None, claims_without_attempt=F("claims_without_attempt") - 1
        )

    def _recorded(self, *, tokens: Iterable[uuid.UUID], at: datetime, **changes: Any) -> int:
        # Only while the claim is ours: a sender whose lease ran out must not overwrite a newer state.
        return self.filter(claim_token__in=list(tokens)).update(
            attempt_count=F("attempt_count") + 1,
            last_attempt_at=at,
            claimed_until=None,
            claim_token=None,
            claims_without_attempt=0,
            **changes,
        )

    def record_success(self, *, tokens: Iterable[uuid.UUID], at: datetime) -> int:
        return self._recorded(tokens=tokens, at=at, status=Delivery.Status.SUCCEEDED, next_attempt_at=None)

    def schedule_retry(self, *, tokens: Iterable[uuid.UUID], at: datetime, retry_at: datetime) -> int:
        return self._recorded(tokens=tokens, at=at, next_attempt_at=retry_at)

    def fail(self, *, tokens: Iterable[uuid.UUID], at: datetime) -> int:
        """Failed for good: the schedule is exhausted (or the answer asked us to stop)."""
        return self._recorded(tokens=tokens, at=at, status=Delivery.Status.FAILED, next_attempt_at=None)

    def give_up(self, *, tokens: Iterable[uuid.UUID], at: datetime) -> int:
        """Failed without another try: its claims kept expiring with nothing on record."""
        return self.fail(tokens=tokens, at=at)

    def finish(self, status: str) -> int:
        """End these deliveries with `status` (failed, cancelled): nothing more is attempted, no claim held."""
        return self.update(status=status, next_attempt_at=None, claimed_until=None, claim_token=None)

    def retry_now(self, now: datetime) -> int:
        """Attempt these waiting deliveries at once (an admin's "Retry now"), keeping their place in the retry
        schedule: a claimed one is on its way already."""
        return self.filter(status=Delivery.Status.PENDING).unclaimed(now).update(next_attempt_at=now)

    def restart(self, now: datetime, **changes: Any) -> int:
        """Send these again from the start (a resend, re-enabling the webhook): a fresh retry schedule."""
        return self.update(
            **changes,
            status=Delivery.Status.PENDING,
            attempt_count=0,
            claims_without_attempt=0,
            next_attempt_at=now,
            claimed_until=None,
            claim_token=None,
        )


class Delivery(models.Model):
    """One event on its way to one webhook; the database is the source of truth for what is due."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    # The event's account, kept here too so that the log's pages are read from one index, newest first,
    # whatever the history (set with the event; empty only for rows from before it was added).
    account = models.ForeignKey(
        ACCOUNT_MODEL, on_delete=models.CASCADE, null=True, blank=True, db_index=False, related_name="+"
    )
    # Kept (as cancelled) when its webhook is deleted, so the log still says what happened to the event.
    webhook = models.ForeignKey(Webhook, on_delete=models.SET_NULL, null=True, related_name="deliveries")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    # Claims that ended with no attempt on record (a worker died mid-attempt); reset by every record.
    claims_without_attempt = models.PositiveSmallIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # Sent again by an admin (one resend, or a recovery after an outage): how often, the last time when.
    resend_count = models.PositiveIntegerField(default=0)
    resent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["webhook", "status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["status", "next_attempt_at"], name="delivery_sweep"),
            models.Index(fields=["claim_token"], name="delivery_claim"),
            # The log's pages, newest first: the account's, one endpoint's, and each with a status filter.
            models.Index(fields=["account", "-created_at", "-id"], name="delivery_log"),
            models.Index(fields=["account", "status", "-created_at", "-id"], name="delivery_log_status"),
            models.Index(fields=["webhook", "-created_at", "-id"], name="delivery_log_endpoint"),
            models.Index(fields=["webhook", "status", "-created_at", "-id"], name="delivery_log_endpoint_status"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to {self.webhook} ({self.status})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.account_id is None and self.event_id is not None:
            self.account_id = self.event.account_id
        super().save(*args, **kwargs)

    @property
    def progress(self) -> Progress:
        """How it is doing, in the words every page uses (reads its webhook: select it with the delivery)."""
        return delivery_progress(self, timezone.now())


@dataclass(frozen=True)
class Progress:
    """How a delivery is doing, in one vocabulary: Succeeded, Failed, Cancelled; or, while it is pending,
    Pending (not tried yet), Retrying (tried, and tried again on its schedule), Waiting (held while its
    endpoint cools down or is disabled) or Paused."""

    word: str
    tone: str  # the status style: succeeded, failed, pending or "" (neutral)
    # When it is next tried, when that is later than now: never a time already past.
    next_attempt: datetime | None = None
    held: str = ""  # why it is not sent now, when it is held

    @property
    def final(self) -> bool:
        return self.word in {"Succeeded", "Failed", "Cancelled"}


def delivery_progress(delivery: Delivery, now: datetime) -> Progress:
    if delivery.status == Delivery.Status.SUCCEEDED:
        return Progress("Succeeded", "succeeded")
    if delivery.status == Delivery.Status.FAILED:
        return Progress("Failed", "failed")
    webhook = delivery.webhook
    if delivery.status != Delivery.Status.PENDING or webhook is None:
        return Progress("Cancelled", "")
    if not webhook.is_active:
        if webhook.disabled_at is not None:
            return Progress("Waiting", "pending", held="The endpoint is disabled.")
        return Progress("Paused", "pending", held="The endpoint is paused: this is sent when it is resumed.")
    due = max(delivery.next_attempt_at or now, now)
    if webhook.breaker_open_until is not None and webhook.breaker_open_until > due:
        return Progress(
            "Waiting", "pending", webhook.breaker_open_until, held="The endpoint is cooling down after failures."
        )
    return Progress("Retrying" if delivery.attempt_count else "Pending", "pending", due if due > now else None)


class DeliveryAttempt(models.Model):
    """One POST (or a try that never got an answer), as shown in the delivery log."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    attempted_at = models.DateTimeField(db_index=True)
    # Where it went: the endpoint's URL may change later, the log says where each attempt was sent.
    url = models.CharField("URL", max_length=URL_MAX_LENGTH, blank=True)
    # As sent, the signature shortened and custom header values masked; and as answered (bounded).
    request_headers = models.JSONField(default=dict, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    succeeded = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-attempted_at", "-id"]

    def __str__(self) -> str:
        outcome = self.status_code or self.error or "?"
        return f"attempt on {self.delivery_id}: {outcome}"


class EndpointHour(models.Model):
    """One endpoint's attempts in one hour (UTC): what its health figures and charts read, never the attempts.

    Added to in the same write as the attempts themselves (`tallies.attempts_tally`).
    """

    # No constraint in the database: an attempt recorded as its endpoint is deleted must not fail its whole
    # write for a count; such a row goes at retention, like every other.
    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    hour = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    # The latest attempt of the hour and how it went: the Webhook tab's "last attempt".
    last_attempt_at = models.DateTimeField()
    last_succeeded = models.BooleanField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["webhook", "hour"], name="endpoint_hour_once")]

    def __str__(self) -> str:
        return f"{self.webhook_id} at {self.hour:%Y-%m-%d %H}h: {self.succeeded}/{self.attempts}"


class EndpointDurations(models.Model):
    """How many of one endpoint's attempts in one hour took about `duration_ms` (two significant figures)."""

    webhook = models.ForeignKey(
        Webhook, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    hour = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "endpoint durations"
        constraints = [
            models.UniqueConstraint(fields=["webhook", "hour", "duration_ms"], name="endpoint_durations_once")
        ]

    def __str__(self) -> str:
        return f"{self.webhook_id} at {self.hour:%Y-%m-%d %H}h: {self.attempts} of ~{self.duration_ms} ms"
