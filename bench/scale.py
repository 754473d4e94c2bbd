"""The pages at production scale: each Integrations page and API list, timed with N deliveries on record.

    bin/with-postgres .venv/bin/python bench/run.py --only scale [--scale-sizes 10000,1000000]

One account with one endpoint, as its admin (and its API key) would feel it: the same requests on
an empty history and after N delivered notifications (an event, a delivery and one attempt each,
2 % of them failed, spread over the 30 days of retention), median of 7 each, side by side with
the empty database's time. Loaded with COPY on PostgreSQL (bulk_create elsewhere), then ANALYZEd,
as a database that has lived would be. The due lookup is another account's: the sender's cost.
"""

from __future__ import annotations

import json
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SAMPLES = 7
ROOT = Path(__file__).resolve().parent.parent
RETENTION_DAYS = 30
FAILED_SHARE = 0.02


@dataclass
class Account:
    """The measured account: its admin's client, its API key, its endpoint, a recent delivery."""

    client: Any
    key: str
    webhook: Any
    other_webhook_id: int


def median_ms(call: Callable[[], Any]) -> float:
    samples = []
    for _ in range(SAMPLES):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def account_setup() -> Account:
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from accounts.models import Account as HostAccount
    from accounts.models import Membership
    from integrations.contrib.api.keys import api_key_create
    from integrations.models import Webhook

    settings.INTEGRATIONS_API_RATE = "1000000/minute"  # the rate limit is not what is measured
    account = HostAccount.objects.create(name=f"Scale {time.time_ns()}")
    admin = get_user_model().objects.create_user(username=f"scale-{time.time_ns()}")
    Membership.objects.create(account=account, user=admin, role=Membership.Role.ADMIN)
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9/scale")
    other = HostAccount.objects.create(name=f"Scale other {time.time_ns()}")
    other_webhook = Webhook.objects.create(account=other, url="http://127.0.0.1:9/other")
    client = Client()
    client.force_login(admin)
    key = api_key_create(account_id=account.pk, name="scale")[1]
    return Account(client=client, key=key, webhook=webhook, other_webhook_id=other_webhook.pk)


def _rows(webhook: Any, count: int, first_delivery_id: int) -> Iterator[tuple[tuple[Any, ...], ...]]:
    """(event, delivery, attempt) rows, oldest first, spread over the retention period."""
    now = datetime.now(UTC)
    span = timedelta(days=RETENTION_DAYS).total_seconds()
    randomness = random.Random(20)
    for number in range(count):
        created = now - timedelta(seconds=span * (count - number) / count)
        event_id = uuid.uuid4()
        identifier = f"participant-{number}"
        body = json.dumps(
            {"type": "completed", "data": {"flowId": 1, "identifier": identifier, "score": 3}}, separators=(",", ":")
        )
        failed = randomness.random() < FAILED_SHARE
        status = "failed" if failed else "succeeded"
        delivery_id = first_delivery_id + number
        yield (
            (event_id, webhook.account_id, "completed", body, 1, identifier, False, created),
            (delivery_id, event_id, webhook.account_id, webhook.pk, status, 1, created, created, 0, 0),
            (delivery_id, created, webhook.url, not failed, 500 if failed else 200, 40 + number % 200, failed),
        )


EVENT_COLUMNS = ("id", "account_id", "type", "body", "subject_id", "subject_key", "is_example", "created_at")
DELIVERY_COLUMNS = (
    "id",
    "event_id",
    "account_id",
    "webhook_id",
    "status",
    "attempt_count",
    "last_attempt_at",
    "created_at",
    "claims_without_attempt",
    "resend_count",
)
ATTEMPT_COLUMNS = (
    "delivery_id",
    "attempted_at",
    "url",
    "succeeded",
    "status_code",
    "duration_ms",
    "request_headers",
    "response_headers",
    "response_body",
    "error",
)


def _attempt(row: tuple[Any, ...]) -> tuple[Any, ...]:
    delivery_id, attempted_at, url, succeeded, status_code, duration_ms, failed = row
    error = "The receiver answered HTTP 500." if failed else ""
    return (delivery_id, attempted_at, url, succeeded, status_code, duration_ms, "{}", "{}", "", error)


def history_load(webhook: Any, count: int) -> float:
    """Add `count` delivered notifications to the webhook's history; returns the seconds it took."""
    from django.db import connection

    from integrations.models import Delivery

    started = time.perf_counter()
    first = (Delivery.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1
    if connection.vendor == "postgresql":
        _copy(webhook, count, first)
    else:
        _bulk_create(webhook, count, first)
    return time.perf_counter() - started


def _tally(webhook: Any, rows: list[tuple[tuple[Any, ...], ...]]) -> None:
    """The endpoint's counts by hour of these rows' attempts, as the sender keeps them."""
    from collections import Counter

    from integrations.tallies import Durations, Hours, duration_bucket, hour_count, hour_of, tallies_add

    hours: Hours = {}
    durations: Durations = Counter()
    for _, _, (_, attempted_at, _, succeeded, _, duration_ms, _) in rows:
        hour_count(hours, webhook.pk, attempted_at, succeeded, count=1)
        durations[webhook.pk, hour_of(attempted_at), duration_bucket(duration_ms)] += 1
    tallies_add(hours, durations)


def _copy(webhook: Any, count: int, first: int) -> None:
    from django.db import connection

    tables = (
        ("integrations_event", EVENT_COLUMNS),
        ("integrations_delivery", DELIVERY_COLUMNS),
        ("integrations_deliveryattempt", ATTEMPT_COLUMNS),
    )
    batch = 200_000
    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        for start in range(0, count, batch):
            rows = list(_rows(webhook, min(batch, count - start), first + start))
            for index, (table, columns) in enumerate(tables):
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row[index] if index < 2 else _attempt(row[index]))
            _tally(webhook, rows)
        # The ids were given here: the identity column carries on after them.
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('integrations_delivery', 'id'), "
            "(SELECT max(id) FROM integrations_delivery))"
        )
        for table, _ in tables:
            cursor.execute(f"ANALYZE {table}")


def _bulk_create(webhook: Any, count: int, first: int) -> None:
    from integrations.models import Delivery, DeliveryAttempt, Event

    rows = list(_rows(webhook, count, first))
    Event.objects.bulk_create(Event(**dict(zip(EVENT_COLUMNS, row[0], strict=True))) for row in rows)
    Delivery.objects.bulk_create(Delivery(**dict(zip(DELIVERY_COLUMNS, row[1], strict=True))) for row in rows)
    DeliveryAttempt.objects.bulk_create(
        DeliveryAttempt(**dict(zip(ATTEMPT_COLUMNS, _attempt(row[2]), strict=True))) for row in rows
    )
    _tally(webhook, rows)
    # auto_now_add set every created_at to now: put them back where the history has them.
    for row in rows:
        event, delivery = (
            dict(zip(EVENT_COLUMNS, row[0], strict=True)),
            dict(zip(DELIVERY_COLUMNS, row[1], strict=True)),
        )
        Event.objects.filter(pk=event["id"]).update(created_at=event["created_at"])
        Delivery.objects.filter(pk=delivery["id"]).update(created_at=delivery["created_at"])


def requests_of(account: Account) -> dict[str, Callable[[], Any]]:
    """What an admin and an API client do, by name; each asserts its answer is a 200."""
    from django.urls import reverse
    from django.utils import timezone

    from integrations.models import Delivery
    from integrations.sending.store import next_due

    client, webhook = account.client, account.webhook
    latest = Delivery.objects.filter(webhook=webhook).order_by("-created_at", "-id").first()

    def page(url: str, **headers: str) -> Callable[[], Any]:
        def call() -> Any:
            answer = client.get(url, **headers)
            assert answer.status_code == 200, (url, answer.status_code)
            return answer

        return call

    key = {"HTTP_AUTHORIZATION": f"Api-Key {account.key}"}
    deliveries = reverse("integrations:deliveries")
    calls = {
        "Delivery log (first page)": page(deliveries),
        "Delivery log, failed ones of the endpoint": page(f"{deliveries}?endpoint={webhook.pk}&status=failed"),
        "Endpoint page (health charts, recent deliveries)": page(reverse("integrations:endpoint", args=[webhook.pk])),
        "Webhook tab (24 h summary per endpoint)": page(reverse("integrations:webhook")),
        "API GET /api/v1/events/ (first page)": page("/api/v1/events/", **key),
        "API GET /api/v1/webhooks/": page("/api/v1/webhooks/", **key),
        "due lookup for another account": lambda: next_due(webhook_ids=[account.other_webhook_id], now=timezone.now()),
    }
    middle = Delivery.objects.filter(webhook=webhook).order_by("id").values_list("id", flat=True)
    halfway = middle[middle.count() // 2] if latest is not None else None
    if halfway is not None:
        calls["Delivery log, the page halfway back (Older)"] = page(f"{deliveries}?older={halfway}")
    if latest is not None:
        calls["Delivery detail"] = page(reverse("integrations:delivery", args=[latest.pk]))
        calls["API GET /api/v1/events/{id}/"] = page(f"/api/v1/events/{latest.event.msg_id}/", **key)
    return calls


def scale(add: Callable[[str, str, str], None], sizes: list[int]) -> dict[str, dict[int, float]]:
    """Time every request on the empty history, then at each size; `add` writes a row of the results table."""
    from django.db import connection

    account = account_setup()
    history_load(account.webhook, 1)  # "empty": one delivery, so that its detail and event can be asked for
    timings: dict[str, dict[int, float]] = {}
    on_record = 1
    for size in [1, *sizes]:
        if size > on_record:
            seconds = history_load(account.webhook, size - on_record)
            add(f"history loaded to {size:,} deliveries ({connection.vendor})", f"{seconds:.0f} s", "")
            on_record = size
        for name, call in requests_of(account).items():
            call()  # warm: the first request of a kind fills caches the others reuse
            timings.setdefault(name, {})[size] = median_ms(call)
    for name, by_size in timings.items():
        empty = by_size[1]
        add(f"{name}, empty history (1 on record)", f"{empty:.1f} ms", "")
        for size, value in by_size.items():
            if size > 1:
                add(f"{name}, {size:,} on record", f"{value:.1f} ms", f"{value / empty:.1f}x the empty history's")
    return timings


# The sender's steady load while the history is pruned: events a second, committed one at a time.
SEND_RATE = 50


def _sending_p99(bench: Any, label: str, seconds: float) -> float:
    """Commit → arrival p99 of a steady stream to a fresh account, with one worker (ms)."""
    flow = bench.account(f"scale-send-{label}-{time.time_ns()}", f"{bench.url}/scale-send")
    with bench.workers(1):
        time.sleep(2)  # listening
        identifiers, committed = bench.paced(flow, SEND_RATE, seconds, f"scale-{label}-{time.time_ns()}")
        key = f"scale-send-{label}"
        bench.latency_row(f"commit → arrival at {SEND_RATE} events/s, {label}", identifiers, committed, key)
    return float(bench.results.figures[key])


def pruning(bench: Any, add: Callable[[str, str, str], None], *, seconds: float) -> None:
    """The sweeper prunes all but the last day of the history while a steady stream is sent; its rate, and
    the stream's p99 beside the same stream without pruning.
    """
    import subprocess
    import sys

    from integrations.models import Event

    quiet = _sending_p99(bench, "nothing pruned", seconds)
    on_record = Event.objects.count()
    sweeper = subprocess.Popen(
        [sys.executable, "manage.py", "sweep_webhooks", "--interval", "1"],
        cwd=ROOT,
        env={**bench.env, "INTEGRATIONS_RETENTION_DAYS": "1"},
        stdout=subprocess.DEVNULL,
    )
    started = time.perf_counter()
    try:
        busy = _sending_p99(bench, "while the sweeper prunes", seconds)
        during = on_record - Event.objects.count()
        # Then until it has caught up: a minute with nothing left to delete.
        left = Event.objects.filter(created_at__lt=datetime.now(UTC) - timedelta(days=1, minutes=1))
        while left.exists():
            time.sleep(1)
        took = time.perf_counter() - started
    finally:
        sweeper.terminate()
        sweeper.wait()
    pruned = on_record - Event.objects.count()
    add(
        f"pruning {pruned:,} events past retention (each with its delivery and attempt)",
        f"{pruned / took:,.0f} events/s",
        f"{took:.0f} s in all; {during:,} while the stream below was sent",
    )
    add(
        "p99 while the sweeper prunes, against nothing pruned", f"{busy / quiet:.2f}x", f"{busy:,.0f} / {quiet:,.0f} ms"
    )


# The last migration that is not safe to undo on a big table: what `migration` takes back and applies again.
BEFORE_LOG_INDEXES = "0008_api_key_creators_and_event_types_once"


def migration(bench: Any, add: Callable[[str, str, str], None]) -> None:
    """0009 (the log's account column, filled, and its indexes built CONCURRENTLY) undone and applied again on
    the history, while a writer inserts a delivery every 20 ms: how long it takes, and the writer's longest wait.
    """
    import subprocess
    import sys
    import threading

    from django.db import connection, connections

    from integrations.models import Delivery

    sample = Delivery.objects.order_by("-id").values_list("event_id", "webhook_id").first()
    assert sample is not None
    waits: list[float] = []
    done = threading.Event()

    def writer() -> None:
        # Its own connection; only columns that exist before and after the migration.
        with connections["default"].cursor() as cursor:
            while not done.is_set():
                started = time.perf_counter()
                cursor.execute(
                    "INSERT INTO integrations_delivery (event_id, webhook_id, status, attempt_count, created_at, "
                    "claims_without_attempt, resend_count) VALUES (%s, %s, 'cancelled', 0, now(), 0, 0)",
                    sample,
                )
                waits.append((time.perf_counter() - started) * 1000)
                time.sleep(0.02)
        connections["default"].close()

    def migrate(*target: str) -> float:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "integrations", *target, "-v0"],
            cwd=ROOT,
            env=bench.env,
            check=True,
        )
        return time.perf_counter() - started

    migrate(BEFORE_LOG_INDEXES)
    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        took = migrate("0009")
    finally:
        done.set()
        thread.join()
    migrate()  # and on to the newest, for what is measured after this
    on_record = Delivery.objects.count()
    add(
        f"migration 0009 on {on_record:,} deliveries ({connection.vendor})",
        f"{took:.0f} s",
        f"a writer beside it: {len(waits)} inserts, the longest {max(waits):,.0f} ms, "
        f"median {statistics.median(waits):.1f} ms",
    )
