"""The app's own signals: sent once the change commits, with the admins' e-mail as a default receiver."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from integrations.health import webhook_disable, webhook_enable
from integrations.models import Delivery, Webhook
from integrations.signals import (
    EMAIL_ADMINS_ON_DISABLE,
    delivery_failed,
    signals_sent,
    webhook_disabled,
    webhook_enabled,
)
from tests.testhost.objects import close

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def heard() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    calls: list[tuple[str, dict[str, Any]]] = []

    def listener(name: str) -> Any:
        def receive(sender: Any, **kwargs: Any) -> None:
            kwargs.pop("signal")
            calls.append((name, kwargs))

        return receive

    receivers = {name: listener(name) for name in ("disabled", "enabled", "failed")}
    for name, signal in (("disabled", webhook_disabled), ("enabled", webhook_enabled), ("failed", delivery_failed)):
        signal.connect(receivers[name], weak=False, dispatch_uid=f"test.{name}")
    yield calls
    for signal, name in ((webhook_disabled, "disabled"), (webhook_enabled, "enabled"), (delivery_failed, "failed")):
        signal.disconnect(dispatch_uid=f"test.{name}")


def test_disabling_and_enabling_send_their_signals_and_the_admins_get_an_email(
    heard: list[Any], webhook: Webhook, admin_user: Any
) -> None:
    admin_user.email = "ada@example.com"
    admin_user.save()
    webhook_disable(webhook=webhook, reason="The endpoint answered 410 Gone.")
    assert signals_sent(10)
    assert [(name, kwargs["reason"]) for name, kwargs in heard] == [("disabled", "The endpoint answered 410 Gone.")]
    assert heard[0][1]["webhook"].pk == webhook.pk
    assert [message.to for message in mail.outbox] == [["ada@example.com"]]
    webhook_enable(webhook=webhook, resend_failed=False)
    assert signals_sent(10)
    assert [name for name, _ in heard] == ["disabled", "enabled"]
    assert heard[1][1]["resent"] == 0


def test_a_host_replaces_the_email_by_disconnecting_the_default_receiver(
    heard: list[Any], webhook: Webhook, admin_user: Any
) -> None:
    admin_user.email = "ada@example.com"
    admin_user.save()
    assert webhook_disabled.disconnect(sender=Webhook, dispatch_uid=EMAIL_ADMINS_ON_DISABLE)
    try:
        webhook_disable(webhook=webhook, reason="Gone.")
        assert signals_sent(10)
    finally:
        from integrations import notices

        notices.connect()
    assert mail.outbox == []
    assert [name for name, _ in heard] == ["disabled"]


def test_a_receiver_that_raises_never_undoes_the_change(webhook: Webhook, caplog: Any) -> None:
    def broken(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("the host's receiver is broken")

    webhook_disabled.connect(broken, weak=False, dispatch_uid="test.broken")
    try:
        webhook_disable(webhook=webhook, reason="Gone.")
        assert signals_sent(10)
    finally:
        webhook_disabled.disconnect(dispatch_uid="test.broken")
    webhook.refresh_from_db()
    assert not webhook.is_active
    assert "the host's receiver is broken" in caplog.text


def sent_to_a_failing_receiver(ticket: Any, receiver: Any, run_worker: Any) -> Delivery:
    """Close the ticket and run the worker against a receiver that answers 500."""
    receiver.clear_all_handlers()
    receiver.expect_request("/hook", method="POST").respond_with_data("nope", status=500)
    close(ticket)
    run_worker()
    assert signals_sent(10)
    return Delivery.objects.get()


def test_a_delivery_whose_retries_ran_out_sends_delivery_failed(
    heard: list[Any], settings: Any, ticket: Any, webhook: Webhook, receiver: Any, run_worker: Any
) -> None:
    settings.INTEGRATIONS_RETRY_SCHEDULE = ""  # no retries: the first failure is the last
    delivery = sent_to_a_failing_receiver(ticket, receiver, run_worker)
    assert delivery.status == Delivery.Status.FAILED
    assert [(name, kwargs["delivery"].pk, kwargs["error"]) for name, kwargs in heard] == [
        ("failed", delivery.pk, "The receiver answered HTTP 500.")
    ]


def test_a_retry_is_not_a_failure_for_good(
    heard: list[Any], ticket: Any, webhook: Webhook, receiver: Any, run_worker: Any
) -> None:
    delivery = sent_to_a_failing_receiver(ticket, receiver, run_worker)
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.next_attempt_at is not None and delivery.next_attempt_at > timezone.now() - timedelta(seconds=1)
    assert heard == []


def test_signals_are_sent_in_order_by_their_own_thread_with_copies(webhook: Webhook, settings: Any) -> None:
    import threading

    from integrations.signals import SignalSender, webhook_failing

    heard: list[tuple[str, int, str]] = []

    def receive(sender: Any, webhook: Webhook, failures: int, **kwargs: Any) -> None:
        heard.append((threading.current_thread().name, failures, webhook.description))

    webhook_failing.connect(receive, weak=False, dispatch_uid="test.order")
    try:
        sender = SignalSender()
        for number in range(1, 4):
            webhook.description = f"as it was at {number}"
            sender.put(webhook_failing, Webhook, {"webhook": webhook, "failures": number})
        webhook.description = "changed afterwards"
        assert sender.wait_sent(10)
    finally:
        webhook_failing.disconnect(dispatch_uid="test.order")
    assert heard == [("integrations-signals", number, f"as it was at {number}") for number in range(1, 4)]


def test_a_full_queue_drops_a_signal_with_an_error_and_never_waits(
    webhook: Webhook, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    import threading
    import time

    from integrations.signals import SignalSender, webhook_failing

    settings.INTEGRATIONS_SIGNALS_QUEUE_MAX = 1
    release, heard = threading.Event(), []

    def stuck(sender: Any, failures: int, **kwargs: Any) -> None:
        release.wait(10)  # a receiver that hangs (a mail server that never answers)
        heard.append(failures)

    webhook_failing.connect(stuck, weak=False, dispatch_uid="test.stuck")
    try:
        sender = SignalSender()
        sender.put(webhook_failing, Webhook, {"webhook": webhook, "failures": 1})
        deadline = time.monotonic() + 5
        waiting = sender._thread._queue
        while waiting is not None and not waiting.empty():  # until the thread has taken the first
            assert time.monotonic() < deadline
            time.sleep(0.01)
        started = time.monotonic()
        sender.put(webhook_failing, Webhook, {"webhook": webhook, "failures": 2})  # waits in the queue
        sender.put(webhook_failing, Webhook, {"webhook": webhook, "failures": 3})  # finds it full
        assert time.monotonic() - started < 1  # never waited for the receiver
        assert not sender.wait_sent(0.1)
        release.set()
        assert sender.wait_sent(10)
    finally:
        webhook_failing.disconnect(dispatch_uid="test.stuck")
    assert heard == [1, 2]
    [dropped] = [record for record in caplog.records if record.name == "integrations.signals"]
    assert dropped.levelname == "ERROR"
    assert dropped.getMessage() == (
        f"signal webhook_failing (endpoint {webhook.pk}) not sent: 1 signals are waiting already; "
        "a receiver is slow or hangs"
    )
