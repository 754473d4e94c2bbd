"""Helpers of the fault tests: a Redis of the test's own, RQ workers and the sweeper as processes, a receiver."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import redis
from django.db import connection, transaction

from accounts.models import Account
from chats.models import Chat, Flow
from integrations.models import Delivery, DeliveryAttempt, Event, Webhook
from integrations.testing import free_port, redis_server_start

ROOT = Path(__file__).resolve().parents[2]

# Fast enough for a test, and still every rule of the real settings (the lease outlives a job).
FAULT_SETTINGS: dict[str, Any] = {
    "INTEGRATIONS_ALLOW_PRIVATE_URLS": True,
    "INTEGRATIONS_RETRY_JITTER": 0,
    "INTEGRATIONS_RETRY_SCHEDULE": "0.5,1,1,1,1,1,1",
    "INTEGRATIONS_ATTEMPT_TIMEOUT": 1.0,
    "INTEGRATIONS_CONNECT_TIMEOUT": 1.0,
    "INTEGRATIONS_JOB_MAX_SECONDS": 1.0,
    "INTEGRATIONS_CLAIM_LEASE_SECONDS": 3.0,
    "INTEGRATIONS_SWEEP_INTERVAL": 0.3,
    "INTEGRATIONS_SWEEP_GRACE": 0.5,
    "INTEGRATIONS_BREAKER_COOLDOWN_MIN": 3.0,
    "INTEGRATIONS_QUEUED_JOB_STALE_SECONDS": 5.0,
    "INTEGRATIONS_LOG_LEVEL": "WARNING",
}


class RedisServer:
    """A redis-server this test may stop, start again on the same port, and flush."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = redis_server_start(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def flushall(self) -> None:
        client = redis.Redis(port=self.port)
        client.flushall()
        client.close()


@dataclass
class Received:
    webhook_id: str
    path: str
    started: float
    ended: float = 0.0
    status: int = 0


@dataclass
class Receiver:
    """A threaded HTTP/1.1 receiver that answers through `answer(path, nth request) -> (status, headers)`.

    Threaded on purpose: two requests for the same event at the same time must be able to overlap
    here, or the test could not see them.
    """

    answer: Callable[[str, int], tuple[int, dict[str, str]]] = lambda path, n: (200, {})
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: Counter[str] = field(default_factory=Counter)
    most_in_flight: Counter[str] = field(default_factory=Counter)
    counts: Counter[str] = field(default_factory=Counter)

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                webhook_id = self.headers.get("webhook-id", "")
                with receiver.lock:
                    receiver.counts[self.path] += 1
                    nth = receiver.counts[self.path]
                    receiver.in_flight[webhook_id] += 1
                    receiver.most_in_flight[webhook_id] = max(
                        receiver.most_in_flight[webhook_id], receiver.in_flight[webhook_id]
                    )
                    record = Received(webhook_id=webhook_id, path=self.path, started=time.time())
                    receiver.requests.append(record)
                try:
                    status, headers = receiver.answer(self.path, nth)
                    record.status = status
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                finally:
                    with receiver.lock:
                        receiver.in_flight[webhook_id] -= 1
                        record.ended = time.time()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def succeeded_ids(self) -> set[str]:
        with self.lock:
            return {r.webhook_id for r in self.requests if 200 <= r.status < 300}


def test_database_url() -> str:
    """The URL of the test database this test runs on, for processes of its own to share it."""
    database = connection.settings_dict
    if database["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{database['NAME']}"
    assert database["ENGINE"] == "django.db.backends.postgresql", database["ENGINE"]
    user = quote(database["USER"] or "")
    password = f":{quote(database['PASSWORD'])}" if database["PASSWORD"] else ""
    return f"postgres://{user}{password}@{database['HOST']}:{database['PORT']}/{database['NAME']}"


class Processes:
    """Workers and the sweeper as separate processes on the test's database and Redis."""

    def __init__(self, redis_url: str, logs: Path, overrides: dict[str, Any]) -> None:
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.fault_settings",
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": redis_url,
            "FAULT_SETTINGS": json.dumps({**FAULT_SETTINGS, **overrides}),
            "PYTHONUNBUFFERED": "1",
        }
        self.logs = logs
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.commands: dict[str, tuple[str, ...]] = {}
        self.restarts: list[str] = []

    def start(self, name: str, *command: str) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        self.running[name] = process
        self.commands[name] = command
        return process

    def supervise(self) -> None:
        """Start again whatever exited, as production's supervisor does.

        An rq worker quits when Redis goes away outside its wait for a job (while it cleans its
        registries at start-up, say); systemd or Kubernetes start it again, and so does this.
        """
        for name, process in list(self.running.items()):
            if process.poll() is not None:
                self.restarts.append(name)
                command = self.commands[name]
                if command[0] == "rqworker":
                    self.worker(name)  # under a new name: the dead one's may still be registered
                else:
                    self.start(name, *command)

    def worker(self, name: str = "worker") -> subprocess.Popen[bytes]:
        return self.start(name, "rqworker", "webhooks", "--with-scheduler", "--name", f"{name}-{time.time_ns()}")

    def sweeper(self) -> subprocess.Popen[bytes]:
        return self.start("sweeper", "sweep_webhooks")

    def kill(self, name: str) -> None:
        process = self.running.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop_all(self) -> None:
        for process in self.running.values():
            process.terminate()
        for process in self.running.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.running.clear()

    def output(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in sorted(self.logs.glob("*.log")))


@dataclass
class Tally:
    events: int
    delivered: int
    failed: int
    lost: int
    sent_twice_at_once: int

    def line(self) -> str:
        return (
            f"events {self.events}, delivered {self.delivered}, failed {self.failed}, lost {self.lost}, "
            f"sent twice at once {self.sent_twice_at_once}"
        )


def wait_until_settled(
    event_ids: list[Any], timeout: float, processes: Processes | None = None, *, supervised: bool = False
) -> None:
    """Wait until every delivery of these events has reached a final state."""
    deadline = time.monotonic() + timeout
    while Delivery.objects.filter(event_id__in=event_ids, status=Delivery.Status.PENDING).exists():
        if supervised and processes is not None:
            processes.supervise()
        if time.monotonic() > deadline:
            pending = Delivery.objects.filter(event_id__in=event_ids, status=Delivery.Status.PENDING).count()
            detail = processes.output() if processes else ""
            raise AssertionError(f"{pending} deliveries still pending after {timeout} s\n{detail}")
        time.sleep(0.1)


def tally(event_ids: list[Any], receiver: Receiver) -> Tally:
    """Count as a user would: every event delivered at the receiver, or failed with its attempts on record."""
    events = Event.objects.filter(id__in=event_ids)
    succeeded_at_receiver = receiver.succeeded_ids()
    delivered = failed = lost = 0
    for event in events.prefetch_related("deliveries"):
        deliveries = list(event.deliveries.all())
        if not deliveries:
            lost += 1
        for delivery in deliveries:
            attempts = DeliveryAttempt.objects.filter(delivery=delivery).count()
            if delivery.status == Delivery.Status.SUCCEEDED and event.msg_id in succeeded_at_receiver:
                delivered += 1
            elif delivery.status == Delivery.Status.FAILED and attempts == delivery.attempt_count > 0:
                failed += 1
            else:
                lost += 1
    lost += len(event_ids) - events.count()
    twice = sum(1 for most in receiver.most_in_flight.values() if most > 1)
    return Tally(events=len(event_ids), delivered=delivered, failed=failed, lost=lost, sent_twice_at_once=twice)


def attempts_by_event(receiver: Receiver) -> dict[str, list[Received]]:
    grouped: dict[str, list[Received]] = defaultdict(list)
    for record in receiver.requests:
        grouped[record.webhook_id].append(record)
    return grouped


def assert_each_delivered_once(name: str, event_ids: list[Any], receiver: Receiver) -> None:
    """With no fault injected: every event delivered, none lost, none sent twice (at once or at all)."""
    outcome = tally(event_ids, receiver)
    per_event = attempts_by_event(receiver)
    print(f"\nfault run [{name}]: {outcome.line()}")  # shown by `pytest -s`, quoted in docs/reliability.md
    assert (outcome.delivered, outcome.lost, outcome.sent_twice_at_once) == (len(event_ids), 0, 0)
    assert all(len(per_event[f"msg_{event_id.hex}"]) == 1 for event_id in event_ids)


def webhook_for(receiver: Receiver, path: str, name: str = "Fault Co") -> tuple[Account, Flow, Webhook]:
    account = Account.objects.create(name=name)
    flow = Flow.objects.create(account=account, name="Flow")
    webhook = Webhook.objects.create(account=account, url=receiver.url(path))
    return account, flow, webhook


def burst(flow: Flow, count: int, prefix: str, *, one_transaction: bool = False) -> list[Any]:
    """Complete `count` chats; returns the ids of the events they recorded."""
    before = set(Event.objects.values_list("id", flat=True))

    def create() -> None:
        for number in range(count):
            Chat.objects.create(flow=flow, identifier=f"{prefix}-{number}", status=Chat.Status.COMPLETED)

    if one_transaction:
        with transaction.atomic():
            create()
    else:
        create()
    return list(set(Event.objects.values_list("id", flat=True)) - before)


def wait_for_workers(server: RedisServer, count: int) -> None:
    """Until `count` workers listen on the queue (each registers itself in Redis)."""
    client = redis.Redis(port=server.port)
    deadline = time.monotonic() + 30
    while client.scard("rq:workers:webhooks") < count:
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.1)
    client.close()


def report(name: str, line: str) -> None:
    # Shown by `pytest -s` and quoted in docs/reliability.md.
    print(f"\nfault run [{name}]: {line}")
