"""Endpoint health: failures since the last success, the circuit breaker, and disabling for good."""

from __future__ import annotations

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


def _reset_health(webhook: Webhook) -> None:
    webhook.consecutive_failures = 0
    webhook.consecutive_timeouts = 0
    webhook.failing_since = None
    webhook.breaker_open_until = None
    webhook.breaker_cooldown_seconds = 0


def _save(webhook: Webhook, fields: list[str]) -> None:
    # An UPDATE, not save(): the webhook may have been deleted while its request was in flight.
    Webhook.objects.filter(pk=webhook.pk).update(
        **{name: getattr(webhook, name) for name in fields}, updated_at=timezone.now()
    )


def webhook_record_success(*, webhook: Webhook) -> None:
    if webhook.consecutive_failures or webhook.failing_since or webhook.breaker_open_until:
        failed = webhook.consecutive_failures
        _reset_health(webhook)
        _save(webhook, HEALTH_FIELDS)
        telemetry.endpoint_state_changed(
            webhook=webhook, state="active", reason=f"An attempt succeeded after {failed} failed.", failures=failed
        )
        if webhook.failing_alert_at is not None:
            _alert(webhook, set_to=None, signal=webhook_recovered, failed=failed)


def _alert(webhook: Webhook, *, set_to: datetime | None, signal: Any, **kwargs: Any) -> None:
    """Tell the admins once per change of state: only the job whose conditional UPDATE wins sends it."""
    won = Webhook.objects.filter(pk=webhook.pk, failing_alert_at__isnull=set_to is not None).update(
        failing_alert_at=set_to
    )
    webhook.failing_alert_at = set_to
    if won:
        send_on_commit(signal, Webhook, webhook=webhook, **kwargs)


def webhook_is_troubled(webhook: Webhook) -> bool:
    """Failing or cooling down: its sends go one at a time, in the worker's lane for endpoints in trouble."""
    return bool(webhook.consecutive_failures or webhook.breaker_open_until is not None)


def webhook_attempt_timeout(webhook: Webhook) -> float:
    """The bound of the next attempt: shorter once an attempt timed out, until one succeeds."""
    if webhook.consecutive_timeouts:
        return min(conf.ATTEMPT_TIMEOUT, conf.TROUBLED_ATTEMPT_TIMEOUT)
    return conf.ATTEMPT_TIMEOUT


def webhook_record_failure(*, webhook: Webhook, at: datetime, gone: bool = False, timed_out: bool = False) -> None:
    """Count a failed attempt; open the breaker, or disable the webhook, when it has come to that.

    Timeouts in a row open the breaker sooner (BREAKER_TIMEOUTS): each one held a slot for the
    whole attempt timeout, where a refused connection costs a millisecond.
    """
    webhook.consecutive_failures += 1
    webhook.consecutive_timeouts = webhook.consecutive_timeouts + 1 if timed_out else 0
    webhook.failing_since = webhook.failing_since or at
    if webhook.consecutive_failures == 1:
        telemetry.endpoint_state_changed(webhook=webhook, state="failing", reason="An attempt failed.", failures=1)
    if gone:
        webhook_disable(webhook=webhook, reason="The endpoint answered 410 Gone, which asks senders to stop.")
        return
    if at - webhook.failing_since >= timedelta(days=conf.DISABLE_AFTER_DAYS):
        webhook_disable(webhook=webhook, reason=f"Every delivery attempt failed for {conf.DISABLE_AFTER_DAYS:g} days.")
        return
    if webhook.consecutive_failures >= conf.ALERT_AFTER_FAILURES and webhook.failing_alert_at is None:
        _alert(webhook, set_to=at, signal=webhook_failing, failures=webhook.consecutive_failures)
    if webhook.consecutive_failures >= conf.BREAKER_FAILURES or webhook.consecutive_timeouts >= conf.BREAKER_TIMEOUTS:
        # 1 min, doubling to 1 h: a dead endpoint is probed by one request per cool-down.
        cooldown = (
            min(webhook.breaker_cooldown_seconds * 2, conf.BREAKER_COOLDOWN_MAX)
            if webhook.breaker_cooldown_seconds
            else conf.BREAKER_COOLDOWN_MIN
        )
        webhook.breaker_cooldown_seconds = round(cooldown)
        webhook.breaker_open_until = timezone.now() + timedelta(seconds=cooldown)
        telemetry.endpoint_state_changed(
            webhook=webhook,
            state="waiting",
            reason=(
                f"{webhook.consecutive_failures} failures in a row ({webhook.consecutive_timeouts} timeouts): "
                f"its deliveries wait {round(cooldown)} s before the next try."
            ),
            failures=webhook.consecutive_failures,
            timeouts=webhook.consecutive_timeouts,
            cooldown_seconds=round(cooldown),
        )
    _save(webhook, HEALTH_FIELDS)


def deliveries_failed_since_failing(*, webhook: Webhook) -> DeliveryQuerySet:
    """The deliveries that failed since the webhook started failing: what re-enabling offers to resend."""
    failed = Delivery.objects.filter(webhook=webhook, status=Delivery.Status.FAILED)
    if webhook.failing_since is None:
        return failed.none()
    return failed.filter(Q(last_attempt_at__gte=webhook.failing_since) | Q(last_attempt_at__isnull=True))


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
        _reset_health(webhook)
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
