"""Nothing slow runs on the sending path: a mail server that never answers, or a host's signal receiver
that takes a minute, beside ten failing endpoints, and their retries go on at the schedule.

The alerts (failing, failed for good) are sent by the worker process's signals' thread; before,
they were sent by the thread of the endpoint that changed state, and one hung mail server held it
for good. Runs on SQLite and on PostgreSQL (`make test`): the workers' claims and records are SQL.
"""

from __future__ import annotations

import contextlib
import itertools
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from accounts.models import Membership
from integrations.models import Delivery, DeliveryAttempt
from integrations.retry import retry_delay
from tests.faults.helpers import Processes, Receiver, burst, report, wait_until_settled, webhook_for

SCHEDULE = [0.5, 1, 1, 1, 1, 1, 1]
ENDPOINTS = 10


@dataclass
class StuckMailServer:
    """A TCP server that accepts connections and never says a word (an SMTP server is to greet first)."""

    accepted: int = 0
    held: list[socket.socket] = field(default_factory=list)

    def start(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.held.append(conn)  # open, silent

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the thread waiting in accept()
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.fixture
def stuck_mail_server() -> Iterator[StuckMailServer]:
    server = StuckMailServer()
    server.start()
    yield server
    server.stop()


def failing_endpoints(receiver: Receiver, django_user_model: Any) -> list[Any]:
    """Ten accounts, each with an admin who has an e-mail address and an endpoint that answers 500."""
    receiver.answer = lambda path, nth: (500, {})
    flows = []
    for number in range(ENDPOINTS):
        account, flow, _ = webhook_for(receiver, f"/down-{number}", f"Down {number}")
        admin = django_user_model.objects.create_user(username=f"admin-{number}", email=f"admin-{number}@example.com")
        Membership.objects.create(account=account, user=admin, role=Membership.Role.ADMIN)
        flows.append(flow)
    return flows


def assert_retried_on_schedule(event_ids: list[Any]) -> None:
    """Every delivery went through the whole schedule, each retry when it was due (not held up)."""
    deliveries = Delivery.objects.filter(event_id__in=event_ids)
    assert set(deliveries.values_list("status", "attempt_count")) == {("failed", len(SCHEDULE) + 1)}
    checked = 0
    for delivery in deliveries:
        attempts = list(DeliveryAttempt.objects.filter(delivery=delivery).order_by("attempted_at"))
        for number, (previous, following) in enumerate(itertools.pairwise(attempts), start=1):
            wanted = retry_delay(attempts_made=number, schedule=SCHEDULE, jitter=0)
            assert wanted is not None
            gap = (following.attempted_at - previous.attempted_at).total_seconds()
            # Slack for a busy shared machine; a held thread would wait the whole mail or receiver timeout (60 s).
            assert wanted - 0.05 <= gap <= wanted + 5, (delivery.pk, number, gap, wanted)
            checked += 1
    assert checked == len(event_ids) * len(SCHEDULE)


def run_failing_endpoints(flows: list[Any], group: Processes) -> list[Any]:
    group.worker()
    group.sweeper()
    event_ids = [event_id for index, flow in enumerate(flows) for event_id in burst(flow, 2, f"down-{index}")]
    wait_until_settled(event_ids, timeout=90, processes=group)
    return event_ids


# What each test sets for the worker: alerts at the first failure, no breaker (the schedule is measured).
ALERTING = {
    "INTEGRATIONS_ALERT_AFTER_FAILURES": 1,
    "INTEGRATIONS_BREAKER_FAILURES": 1000,
    "INTEGRATIONS_RETRY_SCHEDULE": ",".join(map(str, SCHEDULE)),
    "INTEGRATIONS_SIGNALS_EXIT_WAIT": 1,
}


def test_a_mail_server_that_never_answers_delays_no_retry(
    processes: Callable[..., Processes],
    fault_receiver: Receiver,
    stuck_mail_server: StuckMailServer,
    django_user_model: Any,
) -> None:
    flows = failing_endpoints(fault_receiver, django_user_model)
    group = processes(
        **ALERTING,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=stuck_mail_server.port,
        EMAIL_TIMEOUT=60,  # as good as never, for this test
    )
    event_ids = run_failing_endpoints(flows, group)
    assert_retried_on_schedule(event_ids)
    # The alerts were on their way: the first one is still waiting for the mail server to speak.
    assert stuck_mail_server.accepted == 1, group.output()
    report("mail server that never answers", f"{len(event_ids)} deliveries retried on schedule, 8 attempts each")


def test_a_signal_receiver_that_takes_a_minute_delays_no_retry(
    processes: Callable[..., Processes], fault_receiver: Receiver, django_user_model: Any, tmp_path: Path
) -> None:
    flows = failing_endpoints(fault_receiver, django_user_model)
    heard = tmp_path / "signals.log"
    group = processes(
        **ALERTING,
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        FAULT_EXTRA_APPS=["tests.faults.slow_receiver"],
        FAULT_SIGNAL_LOG=str(heard),
        FAULT_SIGNAL_SLEEP=60,
    )
    event_ids = run_failing_endpoints(flows, group)
    assert_retried_on_schedule(event_ids)
    # The receiver got the first signal, and is still asleep on it.
    assert len(heard.read_text().splitlines()) == 1, group.output()
    report("signal receiver that takes a minute", f"{len(event_ids)} deliveries retried on schedule")
