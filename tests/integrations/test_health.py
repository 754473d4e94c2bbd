"""Endpoint health: the circuit breaker, 410 Gone, disabling after days of failure, re-enabling."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from integrations.health import deliveries_failed_since_failing, webhook_enable
from integrations.jobs import deliver_webhook
from integrations.models import Delivery, DeliveryAttempt, Webhook
from integrations.signals import signals_sent
from tests.testhost.models import Team, Ticket
from tests.testhost.objects import close

pytestmark = pytest.mark.django_db(transaction=True)


def events(account: Team, count: int, prefix: str = "c") -> None:
    for number in range(count):
        close(Ticket.objects.create(team=account, reference=f"{prefix}{number}"))


@pytest.fixture
def failing(account: Team, httpserver: Any, admin_user: Any) -> Webhook:
    admin_user.email = "ada@example.com"
    admin_user.save()
    httpserver.expect_request("/down", method="POST").respond_with_data("down", status=500)
    return Webhook.objects.create(account=account, url=httpserver.url_for("/down"))


def test_five_failures_in_a_row_open_the_breaker_and_hold_the_rest(
    account: Team, failing: Webhook, httpserver: Any
) -> None:
    events(account, 8)
    deliver_webhook(failing.pk)
    assert len(httpserver.log) == 5  # the sixth is not attempted
    failing.refresh_from_db()
    assert failing.consecutive_failures == 5
    assert failing.breaker_open_until is not None
    assert failing.breaker_cooldown_seconds == 60
    assert (failing.breaker_open_until - timezone.now()).total_seconds() == pytest.approx(60, abs=5)
    assert Delivery.objects.filter(attempt_count=0, status=Delivery.Status.PENDING).count() == 3
    assert Delivery.objects.filter(claim_token__isnull=False).count() == 0  # unsent claims given back

    deliver_webhook(failing.pk)  # cooling down: nothing is attempted
    assert len(httpserver.log) == 5


def test_after_the_cooldown_one_probe_decides(account: Team, failing: Webhook, httpserver: Any) -> None:
    events(account, 8)
    deliver_webhook(failing.pk)
    Webhook.objects.filter(pk=failing.pk).update(breaker_open_until=timezone.now())
    deliver_webhook(failing.pk)
    assert len(httpserver.log) == 6  # one probe, which failed
    failing.refresh_from_db()
    assert failing.breaker_cooldown_seconds == 120  # the cool-down doubles

    httpserver.clear()
    httpserver.expect_request("/down", method="POST").respond_with_data("back")
    Webhook.objects.filter(pk=failing.pk).update(breaker_open_until=timezone.now())
    Delivery.objects.update(next_attempt_at=timezone.now())
    deliver_webhook(failing.pk)
    assert len(httpserver.log) == 8  # the probe succeeded, and the rest followed at once
    failing.refresh_from_db()
    assert (failing.consecutive_failures, failing.breaker_open_until, failing.failing_since) == (0, None, None)
    assert failing.breaker_cooldown_seconds == 0


def test_the_cooldown_doubles_up_to_an_hour(account: Team, failing: Webhook) -> None:
    events(account, 1)
    cooldowns = []
    for _ in range(9):
        Webhook.objects.filter(pk=failing.pk).update(breaker_open_until=timezone.now(), consecutive_failures=5)
        Delivery.objects.update(next_attempt_at=timezone.now(), attempt_count=0)
        deliver_webhook(failing.pk)
        failing.refresh_from_db()
        cooldowns.append(failing.breaker_cooldown_seconds)
    assert cooldowns == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]


def test_a_410_disables_the_webhook_at_once_and_tells_the_admins(
    account: Team, httpserver: Any, admin_user: Any
) -> None:
    admin_user.email = "ada@example.com"
    admin_user.save()
    httpserver.expect_request("/gone", method="POST").respond_with_data("gone", status=410)
    webhook = Webhook.objects.create(account=account, url=httpserver.url_for("/gone"))
    events(account, 3)
    deliver_webhook(webhook.pk)
    assert len(httpserver.log) == 1
    webhook.refresh_from_db()
    assert webhook.is_active is False
    assert "410 Gone" in webhook.disabled_reason
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.FAILED}
    assert signals_sent(10)
    [email] = mail.outbox
    assert email.to == ["ada@example.com"]
    assert webhook.url in email.body
    assert "410 Gone" in email.body
    assert webhook.secret not in email.body


def test_days_of_nothing_but_failures_disable_the_webhook(
    account: Team, failing: Webhook, httpserver: Any, settings: Any
) -> None:
    events(account, 2)
    Webhook.objects.filter(pk=failing.pk).update(
        failing_since=timezone.now() - timedelta(days=5, minutes=1), consecutive_failures=40
    )
    deliver_webhook(failing.pk)
    failing.refresh_from_db()
    assert failing.is_active is False
    assert failing.disabled_reason == "Every delivery attempt failed for 5 days."
    assert signals_sent(10)
    assert len(mail.outbox) == 1
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).count() == 0
    assert deliveries_failed_since_failing(webhook=failing).count() == 2


def test_re_enabling_can_resend_what_failed_meanwhile(
    account: Team, failing: Webhook, httpserver: Any, run_worker: Callable[[], None]
) -> None:
    events(account, 3)
    Webhook.objects.filter(pk=failing.pk).update(failing_since=timezone.now() - timedelta(days=6))
    deliver_webhook(failing.pk)
    failing.refresh_from_db()
    assert not failing.is_active
    httpserver.clear()
    httpserver.expect_request("/down", method="POST").respond_with_data("fixed")

    assert webhook_enable(webhook=failing, resend_failed=True) == 3
    run_worker()
    assert len(httpserver.log) == 3
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SUCCEEDED}
    failing.refresh_from_db()
    assert (failing.is_active, failing.disabled_at, failing.failing_since) == (True, None, None)
    assert DeliveryAttempt.objects.count() == 4  # the failed one stays in the log


def test_re_enabling_without_resending_leaves_the_failures_failed(account: Team, failing: Webhook) -> None:
    events(account, 2)
    Webhook.objects.filter(pk=failing.pk).update(failing_since=timezone.now() - timedelta(days=6))
    deliver_webhook(failing.pk)
    failing.refresh_from_db()
    assert webhook_enable(webhook=failing, resend_failed=False) == 0
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.FAILED}


def test_a_success_resets_the_health(account: Team, httpserver: Any) -> None:
    httpserver.expect_request("/flaky", method="POST").respond_with_data("ok")
    webhook = Webhook.objects.create(
        account=account, url=httpserver.url_for("/flaky"), consecutive_failures=3, failing_since=timezone.now()
    )
    events(account, 1)
    deliver_webhook(webhook.pk)
    webhook.refresh_from_db()
    assert (webhook.consecutive_failures, webhook.failing_since) == (0, None)


def test_deleting_a_webhook_cancels_what_was_on_its_way(account: Team, failing: Webhook) -> None:
    events(account, 2)
    failing.delete()
    assert set(Delivery.objects.values_list("status", "webhook")) == {(Delivery.Status.CANCELLED, None)}


def test_events_while_disabled_are_kept_failed_and_resent_on_re_enabling(
    account: Team, failing: Webhook, httpserver: Any, run_worker: Callable[[], None]
) -> None:
    events(account, 1)
    Webhook.objects.filter(pk=failing.pk).update(failing_since=timezone.now() - timedelta(days=6))
    deliver_webhook(failing.pk)
    events(account, 2, prefix="while-disabled")
    assert Delivery.objects.filter(status=Delivery.Status.FAILED, attempt_count=0).count() == 2
    failing.refresh_from_db()
    assert deliveries_failed_since_failing(webhook=failing).count() == 3

    httpserver.clear()
    httpserver.expect_request("/down", method="POST").respond_with_data("fixed")
    assert webhook_enable(webhook=failing, resend_failed=True) == 3
    run_worker()
    assert sorted(body["data"]["reference"] for body in (r.get_json() for r, _ in httpserver.log)) == [
        "c0",
        "while-disabled0",
        "while-disabled1",
    ]


def test_a_webhook_paused_by_hand_holds_its_deliveries_unsent(
    account: Team, failing: Webhook, run_worker: Callable[[], None]
) -> None:
    Webhook.objects.filter(pk=failing.pk).update(is_active=False)
    events(account, 1)
    run_worker()
    held = Delivery.objects.get()
    assert (held.status, held.attempt_count) == (Delivery.Status.PENDING, 0)  # sent once it is resumed
