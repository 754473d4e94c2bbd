"""Production serving as docs/deploy.md does it: `collectstatic`, then gunicorn with the production
settings and the repository's gunicorn.conf.py, a Redis of this module's own (it is stopped at the
end), and workers in processes of their own writing the metrics that gunicorn's /metrics adds up.

The database does not matter here (the pages and the probes run on both in the rest of the suite):
this module runs once, in the SQLite run of `make test`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from integrations.testing import free_port, redis_server_start
from tests.helpers import MetricSamples, metric_samples

pytestmark = pytest.mark.once

ROOT = Path(__file__).resolve().parents[2]
TOKEN = secrets.token_urlsafe(40)
# What the TLS proxy in front adds: the production settings redirect plain HTTP to HTTPS.
PROXIED = {"X-Forwarded-Proto": "https"}
# Every page names the app's script by its hashed name, from the manifest `collectstatic` wrote.
SCRIPT = re.compile(r'src="(/static/integrations/integrations\.[0-9a-f]{12}\.js)"')
CREATE_ENDPOINT = """
from accounts.models import Account
from integrations.models import Webhook
account = Account.objects.create(name="Production Co")
Webhook.objects.create(account=account, url="{url}")
"""
COMPLETE_A_CHAT = """
from accounts.models import Account
from chats.models import Chat, Flow
flow, _ = Flow.objects.get_or_create(account=Account.objects.get(name="Production Co"), name="Flow")
Chat.objects.create(flow=flow, identifier="{identifier}", status="completed")
"""


@dataclass
class Production:
    url: str
    env: dict[str, str]
    redis: subprocess.Popen[bytes]
    log: Path

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.url + path, timeout=10, allow_redirects=False, **kwargs)

    def manage(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return done

    def worker_env(self) -> dict[str, str]:
        """A worker of the base settings (production refuses loopback receivers) on the same stores."""
        return {
            "DJANGO_SETTINGS_MODULE": "dialogform_hooks.settings",
            "INTEGRATIONS_ALLOW_PRIVATE_URLS": "1",
            "INTEGRATIONS_RETRY_SCHEDULE": "",  # a failed attempt fails its delivery for good
        }

    def metrics(self) -> MetricSamples:
        answer = self.get("/metrics", headers={**PROXIED, "Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 200, answer.text
        return metric_samples(answer.text)


def _environment(work: Path, redis_url: str, port: int) -> dict[str, str]:
    ours = ("DJANGO", "INTEGRATIONS_", "DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "PROMETHEUS", "LOG_")
    clean = {name: value for name, value in os.environ.items() if not name.startswith(ours)}
    return {
        **clean,
        "DJANGO_SETTINGS_MODULE": "dialogform_hooks.settings_production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
        "REDIS_URL": redis_url,
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics"),
        "STATIC_ROOT": str(work / "static"),
        "LOG_FORMAT": "json",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
    }


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Production]:
    work = tmp_path_factory.mktemp("production")
    (work / "metrics").mkdir()
    redis_port, port = free_port(), free_port()
    redis = redis_server_start(redis_port)
    env = _environment(work, f"redis://127.0.0.1:{redis_port}/0", port)
    server = Production(url=f"http://127.0.0.1:{port}", env=env, redis=redis, log=work / "gunicorn.log")
    server.manage("migrate", "--no-input", "-v0")
    server.manage("collectstatic", "--no-input", "-v0")
    with server.log.open("wb") as log:
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "dialogform_hooks.wsgi:application"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                server.get("/healthz")
                break
            except requests.ConnectionError:
                assert gunicorn.poll() is None, server.log.read_text()
                assert time.monotonic() < deadline, server.log.read_text()
                time.sleep(0.1)
        yield server
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
        redis.kill()
        redis.wait(timeout=10)


def test_gunicorn_serves_the_pages_with_the_production_settings(production: Production) -> None:
    assert production.get("/", headers=PROXIED).status_code == 302  # to the login page
    assert production.get("/").headers["Location"].startswith("https://")  # plain HTTP goes to HTTPS
    login = production.get("/login/", headers=PROXIED)
    assert login.status_code == 200
    assert login.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert SCRIPT.search(login.text), login.text


def test_static_files_are_served_compressed_and_cached_for_a_year(production: Production) -> None:
    base = production.get("/static/admin/css/base.css", headers=PROXIED)
    assert base.status_code == 200
    assert base.headers["Content-Type"].startswith("text/css")
    assert "body" in base.text

    hashed = SCRIPT.search(production.get("/login/", headers=PROXIED).text)
    assert hashed
    source = (ROOT / "integrations/static/integrations/integrations.js").read_text()
    for encoding in ("br", "gzip"):
        answer = production.get(hashed.group(1), headers={**PROXIED, "Accept-Encoding": encoding})
        assert answer.status_code == 200
        assert answer.headers["Content-Encoding"] == encoding
        assert answer.headers["Cache-Control"] == "max-age=315360000, public, immutable"
        assert answer.text == source  # decoded by requests (Brotli through the brotli package)
    # A name without a hash may change with the next version: cached briefly only.
    assert "immutable" not in base.headers["Cache-Control"]


def test_healthz_answers_over_plain_http_for_the_load_balancer(production: Production) -> None:
    answer = production.get("/healthz")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ok" and body["database"] == {"reachable": True} and body["redis"] == {"reachable": True}


def test_metrics_need_the_token(production: Production) -> None:
    assert production.get("/metrics", headers=PROXIED).status_code == 401
    wrong = production.get("/metrics", headers={**PROXIED, "Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    assert "dialogform" not in wrong.text


def test_metrics_add_up_the_workers_counters(production: Production, httpserver: Any) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    production.manage("shell", "-c", CREATE_ENDPOINT.format(url=httpserver.url_for("/hook")))
    before = production.metrics()

    def attempts(figures: dict[Any, float], outcome: str, status_class: str) -> float:
        key = ("dialogform_webhook_attempts_total", (("outcome", outcome), ("status_class", status_class)))
        return figures.get(key, 0.0)

    production.manage("shell", "-c", COMPLETE_A_CHAT.format(identifier="first"))
    production.manage("rqworker", "webhooks", "--burst", **production.worker_env())
    succeeded = production.metrics()
    assert attempts(succeeded, "succeeded", "2xx") - attempts(before, "succeeded", "2xx") == 1
    assert succeeded[("dialogform_webhook_first_attempt_lag_seconds_count", ())] == 1
    assert succeeded[("dialogform_webhook_endpoints", (("state", "active"),))] == 1

    httpserver.clear()
    httpserver.expect_request("/hook").respond_with_data("no", status=500)
    production.manage("shell", "-c", COMPLETE_A_CHAT.format(identifier="second"))
    worker = production.manage("rqworker", "webhooks", "--burst", **production.worker_env())
    failed = production.metrics()
    assert attempts(failed, "http_error", "5xx") - attempts(succeeded, "http_error", "5xx") == 1
    assert attempts(failed, "succeeded", "2xx") == attempts(succeeded, "succeeded", "2xx")  # kept after its process
    assert failed[("dialogform_webhook_deliveries_failed_total", ())] == 1
    assert failed[("dialogform_webhook_endpoints", (("state", "failing"),))] == 1
    assert failed[("dialogform_webhook_redis_up", ())] == 1

    # The worker's log line of the failed attempt, as JSON (LOG_FORMAT=json).
    lines = [json.loads(line) for line in (worker.stdout + worker.stderr).splitlines() if line.startswith("{")]
    [failure] = [line for line in lines if line["message"].startswith("attempt failed")]
    assert failure["outcome"] == "http_error" and failure["status_code"] == 500 and failure["attempt"] == 1
    assert failure["msg_id"].startswith("msg_") and failure["level"] == "WARNING"
    assert "second" not in json.dumps(failure)  # the body is never logged


def test_healthz_is_503_once_redis_is_gone(production: Production) -> None:
    """Last in this module: its Redis does not come back."""
    production.redis.terminate()
    production.redis.wait(timeout=10)
    answer = production.get("/healthz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "unhealthy" and body["redis"] == {"reachable": False}
    assert body["database"] == {"reachable": True}
    figures = production.metrics()  # /metrics still answers, and says which part is down
    assert figures[("dialogform_webhook_redis_up", ())] == 0
    assert figures[("dialogform_webhook_database_up", ())] == 1
