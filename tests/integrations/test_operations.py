"""The operator's view: /healthz, /metrics and the log lines, with a real Redis, worker and receivers."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from dialogform_hooks.logging_config import FORMATTERS
from integrations import sweeper
from integrations.models import Delivery, Webhook
from integrations.outbox import delivery_resend
from integrations.queue import forget_queue, redis_connection
from integrations.webhooks import webhook_update
from tests.helpers import MetricSamples, metric_samples, silent_server
from tests.testhost.models import Team, Ticket
from tests.testhost.objects import close

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "t" * 40


def close_ticket(account: Team, reference: str) -> None:
    close(Ticket.objects.create(team=account, reference=reference))


def samples(client: Client) -> MetricSamples:
    answer = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"].startswith("text/plain; version=")
    return metric_samples(answer.content.decode())


def value(figures: MetricSamples, name: str, **labels: str) -> float:
    return figures.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def metrics_on(settings: Any) -> None:
    settings.INTEGRATIONS_METRICS_TOKEN = TOKEN


# /healthz


def test_healthz_is_200_with_the_figures_when_all_is_well(client: Client, webhook: Webhook, account: Team) -> None:
    close_ticket(account, "due-now")
    answer = client.get("/healthz")
    assert answer.status_code == 200
    assert answer["Cache-Control"].startswith("max-age=0")
    body = answer.json()
    assert body["status"] == "ok" and body["problems"] == []
    assert body["database"] == {"reachable": True} and body["redis"] == {"reachable": True}
    assert body["deliveries_due"] == 1
    assert 0 <= body["oldest_due_age_seconds"] < 60
    assert body["oldest_due_age_limit_seconds"] == 300
    assert body["queued_jobs"] == 1  # the wake-up of the event's webhook
    assert body["workers"] == 0
    assert body["worker_last_job_finished_at"] is None  # no worker has worked yet


def test_healthz_reports_when_a_worker_last_finished_a_job(
    client: Client, webhook: Webhook, account: Team, run_worker: Callable[[], None]
) -> None:
    close_ticket(account, "sent")
    run_worker()
    body = client.get("/healthz").json()
    assert body["deliveries_due"] == 0
    assert 0 <= body["worker_last_job_finished_seconds_ago"] < 60
    assert body["worker_last_job_finished_at"].endswith("+00:00")


def test_healthz_counts_only_what_workers_should_send_now(client: Client, account: Team) -> None:
    """Paused endpoints hold theirs, a cooling-down one waits, a retry later is not due yet."""
    now = timezone.now()
    sending = Webhook.objects.create(account=account, url="https://sending.example.com/")
    paused = Webhook.objects.create(account=account, url="https://paused.example.com/", is_active=False)
    Webhook.objects.create(
        account=account, url="https://cooling.example.com/", breaker_open_until=now + timedelta(minutes=5)
    )
    close_ticket(account, "one")
    Delivery.objects.filter(webhook=sending).update(next_attempt_at=now - timedelta(seconds=42))
    close_ticket(account, "two")
    Delivery.objects.filter(webhook=sending, event__subject_key="two").update(next_attempt_at=now + timedelta(hours=1))
    Delivery.objects.filter(webhook=paused).update(next_attempt_at=now - timedelta(hours=3))
    body = client.get("/healthz").json()
    assert body["deliveries_due"] == 1
    assert body["oldest_due_age_seconds"] == pytest.approx(42, abs=10)


def test_healthz_is_503_when_the_oldest_due_delivery_waited_too_long(
    client: Client, settings: Any, webhook: Webhook, account: Team
) -> None:
    settings.INTEGRATIONS_HEALTHZ_MAX_DUE_AGE = 60
    close_ticket(account, "stuck")
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=2))
    answer = client.get("/healthz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "unhealthy"
    [problem] = body["problems"]
    assert "The oldest due delivery has waited 1" in problem and "the limit is 60 s" in problem


@pytest.fixture
def redis_elsewhere(settings: Any) -> Iterator[Callable[[str], None]]:
    def point_at(url: str) -> None:
        settings.RQ_QUEUES = {"webhooks": {"URL": url, "DEFAULT_TIMEOUT": 120}}
        forget_queue()

    yield point_at
    forget_queue()


def test_healthz_is_503_when_redis_is_unreachable(
    client: Client, redis_elsewhere: Callable[[str], None], webhook: Webhook
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nothing listens here once the socket is closed
    redis_elsewhere(f"redis://127.0.0.1:{port}/0")
    answer = client.get("/healthz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["redis"] == {"reachable": False} and body["database"] == {"reachable": True}
    assert body["problems"] == ["Redis is unreachable (ConnectionError)."]
    assert body["workers"] is None and body["deliveries_due"] == 0


def test_healthz_gives_up_on_a_redis_that_never_answers(
    client: Client, redis_elsewhere: Callable[[str], None], webhook: Webhook
) -> None:
    """A Redis that accepts connections and says nothing makes /healthz fail, not hang with it."""
    with silent_server() as redis:
        redis_elsewhere(f"redis://127.0.0.1:{redis.port}/0")
        started = time.monotonic()
        answer = client.get("/healthz")
        waited = time.monotonic() - started
    assert answer.status_code == 503
    assert answer.json()["problems"] == ["Redis is unreachable (TimeoutError)."]
    assert waited < 20  # the probe's timeout is 1 s; without one this would wait forever


@pytest.mark.once  # a process of its own, whose database is not there whichever the suite uses
def test_healthz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    """In a process of its own whose database is a PostgreSQL server that is not there."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://nobody@127.0.0.1:{port}/none",
    }
    code = (
        "import django; django.setup(); from django.test import Client; "
        "answer = Client().get('/healthz'); print(answer.status_code); print(answer.content.decode())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    code_line, body = done.stdout.split("\n", 1)
    assert code_line == "503"
    answer = json.loads(body)
    assert answer["database"] == {"reachable": False}
    assert answer["problems"][0] == "The database is unreachable (OperationalError)."


def test_healthz_takes_get_and_head_only(client: Client) -> None:
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


# /metrics


def test_metrics_do_not_exist_without_a_token(client: Client) -> None:
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "", f"Basic {TOKEN}", f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", "Bearer", f"Bearer{TOKEN}"],
)
def test_metrics_refuse_anything_but_the_token(client: Client, metrics_on: None, authorization: str | None) -> None:
    extra = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    answer = client.get("/metrics", **extra)
    assert answer.status_code == 401
    assert answer["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"dialogform" not in answer.content


def test_metrics_counters_move_when_deliveries_succeed_and_fail(
    client: Client,
    metrics_on: None,
    settings: Any,
    account: Team,
    httpserver: Any,
    run_worker: Callable[[], None],
) -> None:
    settings.INTEGRATIONS_RETRY_SCHEDULE = ""  # no retries: a failed attempt fails its delivery for good
    httpserver.expect_request("/ok").respond_with_data("ok")
    httpserver.expect_request("/down").respond_with_data("down", status=503)
    Webhook.objects.create(account=account, url=httpserver.url_for("/ok"))
    down = Webhook.objects.create(account=account, url=httpserver.url_for("/down"))
    before = samples(client)

    close_ticket(account, "one")
    run_worker()
    after = samples(client)

    def moved(name: str, since: dict[Any, float] = before, **labels: str) -> float:
        return value(samples(client), name, **labels) - value(since, name, **labels)

    assert moved("webhook_attempts_total", outcome="succeeded", status_class="2xx") == 1
    assert moved("webhook_attempts_total", outcome="http_error", status_class="5xx") == 1
    assert moved("webhook_attempt_duration_seconds_count") == 2
    assert moved("webhook_first_attempt_lag_seconds_count") == 2  # both endpoints were healthy
    assert moved("webhook_deliveries_failed_total") == 1
    assert moved("webhook_endpoint_state_changes_total", state="failing") == 1
    assert value(after, "webhook_endpoints", state="active") == 1
    assert value(after, "webhook_endpoints", state="failing") == 1
    assert value(after, "webhook_deliveries_due") == 0
    assert value(after, "webhook_oldest_due_age_seconds") == 0
    assert value(after, "webhook_queue_jobs", state="queued") == 0
    assert value(after, "webhook_database_up") == 1
    assert value(after, "webhook_redis_up") == 1
    assert value(after, "webhook_workers") == 0  # the burst worker has gone
    assert value(after, "webhook_worker_last_job_finished_timestamp_seconds") > time.time() - 60

    # A resend is attempted again and counted, but is no first attempt: the lag would be the admin's delay.
    delivery_resend(delivery=Delivery.objects.get(webhook=down))
    run_worker()
    assert moved("webhook_attempts_total", since=after, outcome="http_error", status_class="5xx") == 1
    assert moved("webhook_first_attempt_lag_seconds_count", since=after) == 0


def test_metrics_say_which_part_is_down_and_still_answer(
    client: Client, metrics_on: None, redis_elsewhere: Callable[[str], None], webhook: Webhook
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    redis_elsewhere(f"redis://127.0.0.1:{port}/0")
    figures = samples(client)
    assert value(figures, "webhook_redis_up") == 0
    assert value(figures, "webhook_database_up") == 1
    assert ("webhook_workers", ()) not in figures
    assert value(figures, "webhook_endpoints", state="active") == 1


# Log lines


def test_a_failed_attempt_logs_one_line_with_its_fields_and_no_secret(
    account: Team, httpserver: Any, run_worker: Callable[[], None], caplog: pytest.LogCaptureFixture
) -> None:
    body_marker = "answer-body-marker"
    httpserver.expect_request("/down").respond_with_data(body_marker, status=500)
    webhook = Webhook.objects.create(
        account=account,
        url=httpserver.url_for("/down?token=url-secret-marker"),
        custom_headers=[{"name": "X-Api-Key", "value": "header-secret-marker"}],
    )
    close_ticket(account, "reference-marker")
    with caplog.at_level(logging.INFO, logger="integrations"):
        run_worker()
    [line] = [record for record in caplog.records if record.getMessage().startswith("attempt failed")]
    delivery = Delivery.objects.get()
    assert line.levelname == "WARNING"
    fields = {
        name: getattr(line, name)
        for name in ("endpoint_id", "account_id", "delivery_id", "msg_id", "attempt", "outcome", "status_code")
    }
    assert fields == {
        "endpoint_id": webhook.pk,
        "account_id": account.pk,
        "delivery_id": delivery.pk,
        "msg_id": delivery.event.msg_id,
        "attempt": 1,
        "outcome": "http_error",
        "status_code": 500,
    }
    assert isinstance(line.duration_ms, int) and line.retry_at is not None

    ours = [record for record in caplog.records if record.name.startswith("integrations")]
    formatted = [json.loads(_json_formatter().format(record)) for record in ours]
    attempt_json = next(entry for entry in formatted if entry["message"].startswith("attempt failed"))
    assert attempt_json["level"] == "WARNING" and attempt_json["logger"] == "integrations.telemetry"
    assert attempt_json["msg_id"] == delivery.event.msg_id and attempt_json["status_code"] == 500
    assert {"time", "endpoint_id", "delivery_id", "outcome", "duration_ms"} <= set(attempt_json)
    state_json = next(entry for entry in formatted if entry["message"].startswith("endpoint"))
    assert state_json["state"] == "failing" and state_json["endpoint_id"] == webhook.pk

    everything = "\n".join(record.getMessage() for record in ours) + json.dumps(formatted)
    for secret in (webhook.secret, "url-secret-marker", "header-secret-marker", body_marker, "reference-marker"):
        assert secret not in everything


def _json_formatter() -> logging.Formatter:
    options = dict(FORMATTERS["json"])
    factory = options.pop("()")
    assert factory == "pythonjsonlogger.json.JsonFormatter"
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(**options)


def test_every_change_of_an_endpoints_state_logs_a_line(
    account: Team, httpserver: Any, run_worker: Callable[[], None], caplog: pytest.LogCaptureFixture
) -> None:
    httpserver.expect_request("/gone").respond_with_data("", status=410)
    webhook = Webhook.objects.create(account=account, url=httpserver.url_for("/gone"))
    with caplog.at_level(logging.INFO, logger="integrations"):
        webhook_update(webhook=webhook, is_active=False)
        webhook_update(webhook=webhook, is_active=True)
        close_ticket(account, "x")
        run_worker()
    states = [record.state for record in caplog.records if hasattr(record, "state")]
    assert states == ["paused", "active", "failing", "disabled"]
    disabled = next(record for record in caplog.records if getattr(record, "state", "") == "disabled")
    assert "410 Gone" in disabled.reason and disabled.levelname == "WARNING"


# The sweeper on several machines


def test_sweepers_take_turns(webhook: Webhook, account: Team) -> None:
    lock = redis_connection().lock(sweeper.SWEEP_LOCK, timeout=10)
    assert lock.acquire(blocking=False)
    try:
        assert sweeper.sweep().skipped
    finally:
        lock.release()
    outcome = sweeper.sweep()
    assert not outcome.skipped
    assert redis_connection().get(sweeper.SWEEP_LOCK) is None  # let go after the pass
