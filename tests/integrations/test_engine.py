"""The sending engine against real loopback receivers: windows, lanes, claims, leases, pacing, warm shutdown."""

from __future__ import annotations

import itertools
import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.health import EndpointHealth
from integrations.models import Delivery, DeliveryAttempt, EndpointHour, Webhook
from integrations.sending import store
from integrations.sending.endpoints import Endpoint, Lane, lane, pace_delay, window
from integrations.sending.engine import Engine
from integrations.tallies import hour_of
from tests.testhost.models import Team, Ticket
from tests.testhost.objects import close

pytestmark = pytest.mark.django_db(transaction=True)


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


def webhook_with_closed_tickets(name: str, url: str, count: int) -> Webhook:
    account = Team.objects.create(name=name)
    webhook = Webhook.objects.create(account=account, url=url)
    with transaction.atomic():
        for number in range(count):
            close(Ticket.objects.create(team=account, reference=f"w{number}"))
    return webhook


@pytest.fixture
def slow_receivers() -> Iterator[Any]:
    started: list[SlowReceiver] = []

    def start(delay: float, status: int = 200) -> SlowReceiver:
        receiver = SlowReceiver(delay, status)
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


def test_a_healthy_endpoint_that_takes_a_while_gets_its_window_after_one_probe(
    settings: Any, slow_receivers: Any
) -> None:
    settings.INTEGRATIONS_ENDPOINT_CONCURRENCY = 4
    receiver = slow_receivers(0.05)
    webhook = webhook_with_closed_tickets("Slow but fine", receiver.url, 12)
    assert Engine.deliver_once([webhook.pk]) == 12
    assert Delivery.objects.filter(status=Delivery.Status.SUCCEEDED).count() == 12
    assert receiver.most_in_flight == 4  # the window opened after the first success, never past the cap


def test_an_endpoint_with_a_recent_success_opens_its_window_at_once(settings: Any, slow_receivers: Any) -> None:
    settings.INTEGRATIONS_ENDPOINT_CONCURRENCY = 4
    receiver = slow_receivers(0.3)
    webhook = webhook_with_closed_tickets("Known to answer", receiver.url, 4)
    now = timezone.now()
    EndpointHour.objects.create(
        webhook=webhook, hour=hour_of(now), attempts=1, succeeded=1, last_attempt_at=now, last_succeeded=True
    )
    assert Engine.deliver_once([webhook.pk]) == 4
    assert receiver.most_in_flight == 4  # no probe first: all four at once


def test_a_failing_endpoint_gets_one_attempt_at_a_time(settings: Any, slow_receivers: Any) -> None:
    settings.INTEGRATIONS_ENDPOINT_CONCURRENCY = 4
    settings.INTEGRATIONS_BREAKER_FAILURES = 100
    receiver = slow_receivers(0.05, status=500)
    webhook = webhook_with_closed_tickets("Failing", receiver.url, 6)
    assert Engine.deliver_once([webhook.pk]) == 6
    assert receiver.most_in_flight == 1
    assert Webhook.objects.get(pk=webhook.pk).consecutive_failures == 6


def test_the_decisions_about_an_endpoint() -> None:
    webhook = Webhook(url="http://127.0.0.1/", max_rate=None)
    healthy = Endpoint(webhook=webhook, health=EndpointHealth(), warm=True)
    assert (window(healthy), lane(healthy)) == (4, Lane.HEALTHY)
    new = Endpoint(webhook=webhook, health=EndpointHealth(), warm=False)
    assert window(new) == 1  # probes first
    failing = Endpoint(webhook=webhook, health=EndpointHealth(consecutive_failures=1), warm=True)
    assert (window(failing), lane(failing)) == (1, Lane.TROUBLED)
    slow = Endpoint(webhook=webhook, health=EndpointHealth(), warm=True, slow=True)
    assert (window(slow), lane(slow)) == (4, Lane.TROUBLED)  # answers well, slowly: its window, in its lane
    paced = Endpoint(webhook=Webhook(url="http://127.0.0.1/", max_rate=4), health=EndpointHealth(), warm=True)
    assert window(paced) == 1
    assert pace_delay(paced, 100.0) == 0.0
    paced.last_start = 100.0
    assert pace_delay(paced, 100.1) == pytest.approx(0.15)


def test_an_endpoint_that_hangs_moves_to_the_troubled_lane_and_the_healthy_ones_go_on(
    settings: Any, slow_receivers: Any
) -> None:
    """One place in the healthy lane: a hanging endpoint takes it, goes slow, and gives it back to the others."""
    settings.INTEGRATIONS_SENDER_MAX_IN_FLIGHT = 1
    settings.INTEGRATIONS_SLOW_ATTEMPT_SECONDS = 0.2
    settings.INTEGRATIONS_ATTEMPT_TIMEOUT = 3.0
    hanging = slow_receivers(2.5)
    fine = slow_receivers(0.0)
    stuck = webhook_with_closed_tickets("Hanging", hanging.url, 1)
    engine = Engine()
    engine.start()
    try:
        engine.wake([stuck.pk])
        deadline = time.monotonic() + 5
        while hanging.in_flight == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        flowing = webhook_with_closed_tickets("Flowing", fine.url, 5)
        engine.wake([flowing.pk])
        deadline = time.monotonic() + 10
        while Delivery.objects.filter(webhook=flowing, status=Delivery.Status.SUCCEEDED).count() < 5:
            assert time.monotonic() < deadline, "the healthy endpoint waited for the hanging one"
            time.sleep(0.02)
        assert hanging.in_flight == 1  # still hanging meanwhile
    finally:
        assert engine.stop(timeout=10)
    assert Delivery.objects.filter(webhook=stuck, status=Delivery.Status.SUCCEEDED).count() == 1


def test_a_full_troubled_lane_holds_the_next_troubled_endpoint_until_a_place_frees(
    settings: Any, slow_receivers: Any
) -> None:
    settings.INTEGRATIONS_SENDER_TROUBLED_IN_FLIGHT = 1
    settings.INTEGRATIONS_BREAKER_FAILURES = 100
    receiver = slow_receivers(0.2, status=500)
    first = webhook_with_closed_tickets("Failing 1", receiver.url, 2)
    second = webhook_with_closed_tickets("Failing 2", receiver.url, 2)
    Webhook.objects.filter(pk__in=[first.pk, second.pk]).update(consecutive_failures=1, failing_since=timezone.now())
    assert Engine.deliver_once([first.pk, second.pk]) == 4
    assert receiver.most_in_flight == 1  # one troubled attempt in flight in the process, whatever the endpoint


def test_claims_for_many_endpoints_are_one_update(settings: Any) -> None:
    webhooks = [webhook_with_closed_tickets(f"Claimed {n}", "http://127.0.0.1:9/x", 5) for n in range(3)]
    with CaptureQueriesContext(connection) as queries:
        claimed = store.deliveries_claim({webhooks[0].pk: 2, webhooks[1].pk: 5, webhooks[2].pk: 10})
    assert [len(claimed[webhook.pk]) for webhook in webhooks] == [2, 5, 5]
    updates = [query for query in queries.captured_queries if query["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    # Oldest first, and none claimed twice.
    assert [d.pk for d in claimed[webhooks[0].pk]] == sorted(d.pk for d in claimed[webhooks[0].pk])
    assert store.deliveries_claim({webhooks[0].pk: 10})[webhooks[0].pk].__len__() == 3


def test_the_writer_records_an_attempt_whose_claim_was_lost_and_skips_one_whose_delivery_is_gone() -> None:
    """A batch's attempts are written whatever became of their deliveries meanwhile, without a look per batch
    when every delivery moved; a delivery another sender took over keeps its newer state."""
    from integrations.sending.transport import TransportResult

    webhook = webhook_with_closed_tickets("Recorded", "http://127.0.0.1:9/x", 3)
    normal, taken_over, gone = store.deliveries_claim({webhook.pk: 3})[webhook.pk]
    Delivery.objects.filter(pk=taken_over.pk).update(claim_token=uuid.uuid4())  # another sender's claim now
    Delivery.objects.filter(pk=gone.pk).delete()  # its account deleted meanwhile, say

    def outcome(delivery: Any) -> store.Outcome:
        return store.Outcome(
            delivery=delivery,
            webhook=webhook,
            attempted_at=timezone.now(),
            result=TransportResult(status_code=200, body=b"ok", error="", duration_ms=5),
            retry_at=None,
            health=EndpointHealth.of(webhook),
            transition=None,
            healthy_before=True,
        )

    store.outcomes_record([outcome(normal)])  # every delivery moved: no look for them
    with CaptureQueriesContext(connection) as queries:
        store.outcomes_record([outcome(taken_over), outcome(gone)])
    assert any(query["sql"].startswith("SELECT") for query in queries.captured_queries)  # not all moved: looked
    assert sorted(DeliveryAttempt.objects.values_list("delivery_id", flat=True)) == [normal.pk, taken_over.pk]
    assert Delivery.objects.get(pk=normal.pk).status == Delivery.Status.SUCCEEDED
    assert Delivery.objects.get(pk=taken_over.pk).status == Delivery.Status.PENDING  # the other sender's to record
    assert EndpointHour.objects.get(webhook=webhook).attempts == 2


def test_one_sender_per_endpoint_across_workers(settings: Any) -> None:
    webhook = webhook_with_closed_tickets("Held", "http://127.0.0.1:9/x", 1)
    first, second = uuid.uuid4(), uuid.uuid4()
    assert [item.webhook.pk for item in store.endpoints_acquire(owner=first, webhook_ids=[webhook.pk])] == [webhook.pk]
    assert store.endpoints_acquire(owner=second, webhook_ids=[webhook.pk]) == []
    # A lease that ran out (its worker died) is free again.
    Webhook.objects.filter(pk=webhook.pk).update(sending_until=timezone.now() - timedelta(seconds=1))
    assert len(store.endpoints_acquire(owner=second, webhook_ids=[webhook.pk])) == 1
    [due] = store.endpoints_release(owner=second, webhook_ids=[webhook.pk])
    assert due.at is not None and due.at <= timezone.now()  # its delivery is due: someone must send it
    assert Webhook.objects.get(pk=webhook.pk).sending_by is None


def test_a_paced_endpoint_gets_its_attempts_spaced_out(settings: Any, slow_receivers: Any) -> None:
    receiver = slow_receivers(0.0)
    webhook = webhook_with_closed_tickets("Paced", receiver.url, 4)
    Webhook.objects.filter(pk=webhook.pk).update(max_rate=5)
    assert Engine.deliver_once([webhook.pk]) == 4
    times = sorted(DeliveryAttempt.objects.values_list("attempted_at", flat=True))
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= 0.18  # 5 a second: 0.2 s apart (a lower bound: a busy machine only spaces them more)


def test_a_warm_shutdown_records_what_was_sent_and_gives_back_the_rest(settings: Any, slow_receivers: Any) -> None:
    settings.INTEGRATIONS_ENDPOINT_CONCURRENCY = 1
    receiver = slow_receivers(0.5)
    webhook = webhook_with_closed_tickets("Interrupted", receiver.url, 5)
    engine = Engine()
    engine.start()
    engine.wake([webhook.pk])
    deadline = time.monotonic() + 5
    while receiver.in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert engine.stop(timeout=10)
    statuses = sorted(Delivery.objects.filter(webhook=webhook).values_list("status", flat=True))
    assert statuses.count(Delivery.Status.SUCCEEDED) == 1  # the attempt in flight ended and is on record
    assert Delivery.objects.filter(webhook=webhook, claim_token__isnull=False).count() == 0  # the rest given back
    assert Delivery.objects.filter(webhook=webhook, status=Delivery.Status.PENDING).count() == 4
    assert Webhook.objects.get(pk=webhook.pk).sending_by is None


def test_a_stopped_engine_closes_its_database_connection(slow_receivers: Any) -> None:
    """A worker that stops warm gives its connection back at once, not when the garbage collector runs."""
    from django.db import connections

    used: list[Any] = []
    receiver = slow_receivers(0.0)
    webhook = webhook_with_closed_tickets("Sent", receiver.url, 1)
    engine = Engine()
    engine.start()
    original = store.endpoints_acquire

    def acquire(**kwargs: Any) -> Any:
        used.append(connections["default"])  # the database thread's own wrapper
        return original(**kwargs)

    store.endpoints_acquire = acquire  # type: ignore[assignment]
    try:
        engine.wake([webhook.pk])
        deadline = time.monotonic() + 5
        while not Delivery.objects.filter(status=Delivery.Status.SUCCEEDED).exists():
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        store.endpoints_acquire = original  # type: ignore[assignment]
        assert engine.stop(timeout=10)
    assert used, "the engine sent"
    assert all(wrapper.connection is None for wrapper in used)


def test_a_wake_up_while_an_endpoint_is_let_go_takes_it_again(slow_receivers: Any) -> None:
    """A delivery committed as the engine lets its endpoint go is sent by this engine, not left for the sweeper."""
    receiver = slow_receivers(0.0)
    webhook = webhook_with_closed_tickets("Let go", receiver.url, 1)
    letting_go, woken = threading.Event(), threading.Event()
    original = store.endpoints_release

    def release(**kwargs: Any) -> Any:
        due = original(**kwargs)  # let go, and nothing was due then...
        letting_go.set()
        assert woken.wait(5)  # ...but a delivery is committed and its wake-up arrives before the loop hears so
        return due

    engine = Engine()
    store.endpoints_release = release  # type: ignore[assignment]
    engine.start()
    try:
        engine.wake([webhook.pk])
        assert letting_go.wait(5)
        account = webhook.account
        store.endpoints_release = original  # type: ignore[assignment]
        close(Ticket.objects.create(team=account, reference="late"))
        engine.wake([webhook.pk])
        woken.set()
        deadline = time.monotonic() + 5
        while Delivery.objects.filter(webhook=webhook, status=Delivery.Status.SUCCEEDED).count() < 2:
            assert time.monotonic() < deadline, "the late delivery waited for the sweeper"
            time.sleep(0.02)
    finally:
        store.endpoints_release = original  # type: ignore[assignment]
        woken.set()
        assert engine.stop(timeout=10)


def test_a_worker_whose_loop_dies_stops_for_its_supervisor(monkeypatch: pytest.MonkeyPatch) -> None:
    """Taking jobs with no loop to send them would look alive and send nothing: the worker stops (warm) instead."""
    import signal

    from integrations.sending import engine as engine_module

    killed: list[tuple[int, int]] = []
    monkeypatch.setattr(engine_module.os, "kill", lambda pid, sig: killed.append((pid, sig)))

    async def broken(self: Engine, initial: Any) -> None:
        self._ready.set()
        raise RuntimeError("a bug in the loop")

    monkeypatch.setattr(Engine, "_main", broken)
    engine = Engine()
    engine.start()
    deadline = time.monotonic() + 5
    while not killed:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert killed == [(os.getpid(), signal.SIGTERM)]
    assert engine.stop(timeout=5)
