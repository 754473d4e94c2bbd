"""Endpoint health: failures since the last success, the circuit breaker, and disabling for good (or by an admin)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import telemetry
from .conf import conf
from .models import Delivery, DeliveryQuerySet, Webhook
from .queue import webhooks_wake_on_commit
from .signals import send_on_commit, webhook_disabled, webhook_enabled, webhook_failing, webhook_recovered

HEALTH_FIELDS = [
    "consecutive_failures",
    "consecutive_timeouts",
    "failing_since",
    "breaker_open_until",
    "breaker_cooldown_seconds",
]


@dataclass(frozen=True)
class Transition:
    """A change of an endpoint's state, and why: one log line, one count, maybe a message to its admins."""

    state: Webhook.State
    reason: str
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EndpointHealth:
    """Failures since the last success and the circuit breaker they drive: a value, decided without I/O.

    The sender keeps one per endpoint it sends to and asks it what comes next (`after_success`,
    `after_failure`); `health_save` persists the answer. Nothing else decides these fields.
    """

    consecutive_failures: int = 0
    # Of those, the timeouts in a row: a hanging endpoint gets less patience and the breaker sooner.
    consecutive_timeouts: int = 0
    failing_since: datetime | None = None
    breaker_open_until: datetime | None = None
    breaker_cooldown_seconds: int = 0

    @classmethod
    def of(cls, webhook: Webhook) -> EndpointHealth:
        return cls(**{name: getattr(webhook, name) for name in HEALTH_FIELDS})

    def apply_to(self, webhook: Webhook) -> None:
        """Set the webhook's health fields (in memory) to this value."""
        for name in HEALTH_FIELDS:
            setattr(webhook, name, getattr(self, name))

    @property
    def troubled(self) -> bool:
        """Failing, or probing after a cool-down: one attempt at a time, in the sender's troubled lane."""
        return bool(self.consecutive_failures or self.breaker_open_until is not None)

    def cooling(self, now: datetime) -> bool:
        """The breaker is open: nothing is attempted until `breaker_open_until`."""
        return self.breaker_open_until is not None and self.breaker_open_until > now

    @property
    def attempt_timeout(self) -> float:
        """The bound of the next attempt: shorter once an attempt timed out, until one succeeds."""
        if self.consecutive_timeouts:
            return min(conf.ATTEMPT_TIMEOUT, conf.TROUBLED_ATTEMPT_TIMEOUT)
        return conf.ATTEMPT_TIMEOUT

    def after_success(self) -> tuple[EndpointHealth, Transition | None]:
        if not self.troubled and self.failing_since is None:
            return self, None
        failed = self.consecutive_failures
        transition = Transition(
            Webhook.State.ACTIVE, f"An attempt succeeded after {failed} failed.", {"failures": failed}
        )
        return EndpointHealth(), transition

    def after_failure(
        self, *, at: datetime, now: datetime, gone: bool = False, timed_out: bool = False
    ) -> tuple[EndpointHealth, Transition | None]:
        """Count a failed attempt; open the breaker, or disable the endpoint, when it has come to that.

        Timeouts in a row open the breaker sooner (BREAKER_TIMEOUTS): each one held a slot for the
        whole attempt timeout, where a refused connection costs a millisecond.
        """
        failures = self.consecutive_failures + 1
        timeouts = self.consecutive_timeouts + 1 if timed_out else 0
        failing_since = self.failing_since or at
        health = replace(
            self, consecutive_failures=failures, consecutive_timeouts=timeouts, failing_since=failing_since
        )
        if gone:
            reason = "The endpoint answered 410 Gone, which asks senders to stop."
            return replace(health, breaker_open_until=None), Transition(Webhook.State.DISABLED, reason)
        if at - failing_since >= timedelta(days=conf.DISABLE_AFTER_DAYS):
            reason = f"Every delivery attempt failed for {conf.DISABLE_AFTER_DAYS:g} days."
            return replace(health, breaker_open_until=None), Transition(Webhook.State.DISABLED, reason)
        if failures >= conf.BREAKER_FAILURES or timeouts >= conf.BREAKER_TIMEOUTS:
            # 1 min, doubling to 1 h: a dead endpoint is probed by one request per cool-down.
            cooldown = round(
                min(self.breaker_cooldown_seconds * 2, conf.BREAKER_COOLDOWN_MAX)
                if self.breaker_cooldown_seconds
                else conf.BREAKER_COOLDOWN_MIN
            )
            health = replace(
                health, breaker_cooldown_seconds=cooldown, breaker_open_until=now + timedelta(seconds=cooldown)
            )
            reason = (
                f"{failures} failures in a row ({timeouts} timeouts): "
                f"its deliveries wait {cooldown} s before the next try."
            )
            figures = {"failures": failures, "timeouts": timeouts, "cooldown_seconds": cooldown}
            return health, Transition(Webhook.State.WAITING, reason, figures)
        if failures == 1:
            return health, Transition(Webhook.State.FAILING, "An attempt failed.", {"failures": 1})
        return health, None


def health_save(*, webhook: Webhook, health: EndpointHealth, transition: Transition | None) -> None:
    """Persist an endpoint's health, and act on its change of state: the one writer of these fields.

    An UPDATE, not save(): the endpoint may have been deleted while its request was in flight.
    """
    health.apply_to(webhook)
    if health.consecutive_failures == 1 and transition is not None and transition.state != Webhook.State.FAILING:
        # The first failure of a streak is a change of state of its own, even when it also stops the sending.
        telemetry.endpoint_state_changed(webhook=webhook, state=Webhook.State.FAILING, reason="An attempt failed.")
    if transition is not None and transition.state == Webhook.State.DISABLED:
        webhook_disable(webhook=webhook, reason=transition.reason)
        return
    _save(webhook, HEALTH_FIELDS)
    if transition is not None:
        telemetry.endpoint_state_changed(
            webhook=webhook, state=transition.state, reason=transition.reason, **transition.figures
        )
    if health.consecutive_failures >= conf.ALERT_AFTER_FAILURES and webhook.failing_alert_at is None:
        _alert(webhook, set_to=timezone.now(), signal=webhook_failing, failures=health.consecutive_failures)
    elif transition is not None and transition.state == Webhook.State.ACTIVE and webhook.failing_alert_at is not None:
        _alert(webhook, set_to=None, signal=webhook_recovered, failed=transition.figures["failures"])


def _save(webhook: Webhook, fields: list[str]) -> None:
    Webhook.objects.filter(pk=webhook.pk).update(
        **{name: getattr(webhook, name) for name in fields}, updated_at=timezone.now()
    )


def _alert(webhook: Webhook, *, set_to: datetime | None, signal: Any, **kwargs: Any) -> None:
    """Tell the admins once per change of state: only the sender whose conditional UPDATE wins sends it."""
    won = Webhook.objects.filter(pk=webhook.pk, failing_alert_at__isnull=set_to is not None).update(
        failing_alert_at=set_to
    )
    webhook.failing_alert_at = set_to
    if won:
        send_on_commit(signal, Webhook, webhook=webhook, **kwargs)


def deliveries_failed_since_failing(*, webhook: Webhook) -> DeliveryQuerySet:
    """The deliveries that failed since the webhook started failing: what re-enabling offers to resend."""
    failed = Delivery.objects.filter(webhook=webhook, status=Delivery.Status.FAILED)
    if webhook.failing_since is None:
        return failed.none()
    return failed.filter(Q(last_attempt_at__gte=webhook.failing_since) | Q(last_attempt_at__isnull=True))


def webhook_retry_now(*, webhook: Webhook) -> int:
    """Send what waits for the endpoint now, through the normal path: its retries and what the breaker holds.

    The breaker closes; an endpoint still failing is probed with one attempt first, as after a cool-down.
    Returns how many deliveries were made due.
    """
    cooling = webhook.breaker_open_until is not None
    with transaction.atomic():
        waiting = Delivery.objects.filter(webhook=webhook).retry_now(timezone.now())
        if cooling:
            replace(EndpointHealth.of(webhook), breaker_open_until=None).apply_to(webhook)
            _save(webhook, HEALTH_FIELDS)
        if waiting:
            webhooks_wake_on_commit(webhook_ids=[webhook.pk])
    if cooling:  # a change of state only when the breaker was open
        telemetry.endpoint_state_changed(
            webhook=webhook,
            state=webhook.state,
            reason="The cool-down was ended by an admin (retry now).",
            deliveries_retried=waiting,
        )
    return waiting


def webhook_new_url(*, webhook: Webhook) -> None:
    """The endpoint moved: the failures were the old URL's, so the new one starts with a clean bill of health
    (no "failing" banner, and no "recovered" e-mail either). What waits keeps its retry times."""
    EndpointHealth().apply_to(webhook)
    webhook.failing_alert_at = None
    _save(webhook, [*HEALTH_FIELDS, "failing_alert_at"])
    telemetry.endpoint_state_changed(webhook=webhook, state="active", reason="Its URL was changed by an admin.")


def webhook_disable(*, webhook: Webhook, reason: str) -> None:
    """Stop sending to the webhook; its waiting deliveries fail (re-enabling can resend them)."""
    with transaction.atomic():
        webhook.is_active = False
        webhook.disabled_at = timezone.now()
        webhook.disabled_reason = reason
        webhook.breaker_open_until = None
        _save(webhook, [*HEALTH_FIELDS, "is_active", "disabled_at", "disabled_reason"])
        failed = Delivery.objects.filter(webhook=webhook, status=Delivery.Status.PENDING).finish(Delivery.Status.FAILED)
        send_on_commit(webhook_disabled, Webhook, webhook=webhook, reason=reason)
    telemetry.deliveries_failed(failed)
    telemetry.endpoint_state_changed(webhook=webhook, state="disabled", reason=reason, deliveries_failed=failed)


def webhook_enable(*, webhook: Webhook, resend_failed: bool) -> int:
    """Turn a disabled webhook back on; optionally resend what failed since it started failing."""
    with transaction.atomic():
        resent = 0
        if resend_failed:
            resent = deliveries_failed_since_failing(webhook=webhook).restart(timezone.now())
        EndpointHealth().apply_to(webhook)
        webhook.is_active = True
        webhook.disabled_at = None
        webhook.disabled_reason = ""
        webhook.failing_alert_at = None  # an admin turned it back on: a fresh start, no "recovered" message
        webhook.save(
            update_fields=[
                *HEALTH_FIELDS,
                "is_active",
                "disabled_at",
                "disabled_reason",
                "failing_alert_at",
                "updated_at",
            ]
        )
        if resent:
            webhooks_wake_on_commit(webhook_ids=[webhook.pk])
        send_on_commit(webhook_enabled, Webhook, webhook=webhook, resent=resent)
    telemetry.endpoint_state_changed(
        webhook=webhook, state="active", reason="Enabled again by an admin.", deliveries_resent=resent
    )
    return resent
