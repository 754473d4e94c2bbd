"""The sender's lanes and an endpoint's window of attempts in flight, against real loopback receivers."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import transaction

from accounts.models import Account
from chats.models import Chat, Flow
from integrations.delivery import webhook_deliver_due
from integrations.models import Delivery, Webhook
from integrations.sender import HEALTHY, TROUBLED, Lanes


def test_a_seat_whose_attempt_goes_slow_moves_to_the_troubled_lane_and_frees_its_healthy_one() -> None:
    lanes = Lanes(healthy=1, troubled=1, slow_after=0.1)
    try:
        seat = lanes.take()
        taken = threading.Event()
        threading.Thread(target=lambda: (lanes.take(), taken.set()), daemon=True).start()
        assert not taken.wait(0.2)  # the only healthy seat is taken
        seat.attempting_since = time.monotonic()  # an attempt that gets no answer
        assert taken.wait(2)  # the keeper moved it, and the waiting endpoint got the healthy seat
        assert seat.lane == TROUBLED
        assert (lanes.healthy_used, lanes.troubled_used) == (1, 1)
        lanes.give_back(seat)
        assert lanes.troubled_used == 0
    finally:
        lanes.stop()


def test_the_troubled_lane_refuses_when_full_except_an_attempt_already_in_flight() -> None:
    lanes = Lanes(healthy=3, troubled=1, slow_after=60)
    try:
        first, second, third = lanes.take(), lanes.take(), lanes.take()
        assert lanes.move_to_troubled(first)
        assert not lanes.move_to_troubled(second)  # full: it waits, its seat unchanged
        assert second.lane == HEALTHY
        assert lanes.move_to_troubled(third, even_if_full=True)
        assert (lanes.healthy_used, lanes.troubled_used) == (1, 2)
        for seat in (first, second, third):
            lanes.give_back(seat)
        assert (lanes.healthy_used, lanes.troubled_used) == (0, 0)
        assert lanes.wait_idle(0.1)
    finally:
        lanes.stop()


class SlowReceiver:
    """Answers 200 after `delay`, counting the requests in flight at once."""

    def __init__(self, delay: float, status: int = 200) -> None:
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.in_flight += 1
                    receiver.most_in_flight = max(receiver.most_in_flight, receiver.in_flight)
                time.sleep(delay)
                with receiver.lock:
                    receiver.in_flight -= 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def webhook_with_completed_chats(name: str, url: str, count: int) -> Webhook:
    account = Account.objects.create(name=name)
    flow = Flow.objects.create(account=account, name="Flow")
    webhook = Webhook.objects.create(account=account, url=url)
    with transaction.atomic():
        for number in range(count):
            Chat.objects.create(flow=flow, identifier=f"w{number}", status=Chat.Status.COMPLETED)
    return webhook


@pytest.mark.django_db(transaction=True)
def test_a_healthy_endpoint_that_takes_a_while_gets_several_attempts_at_once(settings: Any) -> None:
    settings.INTEGRATIONS_ENDPOINT_CONCURRENCY = 4
    receiver = SlowReceiver(delay=0.05)
    try:
        webhook = webhook_with_completed_chats("Slow but fine", receiver.url, 12)
        assert webhook_deliver_due(webhook_id=webhook.pk).sent == 12
    finally:
        receiver.stop()
    assert Delivery.objects.filter(status=Delivery.Status.SUCCEEDED).count() == 12
    assert receiver.most_in_flight == 4  # the window opened after the first success, never past the cap


@pytest.mark.django_db(transaction=True)
def test_a_failing_endpoint_gets_one_attempt_at_a_time(settings: Any) -> None:
    settings.INTEGRATIONS_ENDPOINT_CONCURRENCY = 4
    settings.INTEGRATIONS_BREAKER_FAILURES = 100
    receiver = SlowReceiver(delay=0.05, status=500)
    try:
        webhook = webhook_with_completed_chats("Failing", receiver.url, 6)
        assert webhook_deliver_due(webhook_id=webhook.pk).sent == 6
    finally:
        receiver.stop()
    assert receiver.most_in_flight == 1
    assert Webhook.objects.get(pk=webhook.pk).consecutive_failures == 6


@pytest.mark.django_db(transaction=True)
def test_a_stopped_sender_closes_its_threads_database_connections() -> None:
    """A worker that stops warm gives its connections back at once, not when the garbage collector runs."""
    from django.db import connections

    from integrations.sender import Sender

    used: list[Any] = []

    def send(**kwargs: Any) -> None:
        Webhook.objects.exists()  # opens this thread's connection
        used.append(connections["default"])  # this thread's own wrapper

    sender = Sender(send)
    sender.submit(1)
    sender.submit(2)
    assert sender.stop(timeout=10)
    assert used, "the sends ran"
    assert all(wrapper.connection is None for wrapper in used)
