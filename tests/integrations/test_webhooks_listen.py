"""`manage.py webhooks_listen`: the local receiver that prints notifications and checks signatures."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from django.db import connection

from integrations.management.commands.webhooks_listen import make_handler
from integrations.models import Webhook, new_signing_secret
from integrations.sending.signing import request_headers
from integrations.testing import free_port

ROOT = Path(__file__).resolve().parents[2]
BODY = '{"type":"ticket.closed","data":{"ticketId":4,"reference":"zoë","rating":null}}'


def signed(secret: str) -> dict[str, str]:
    return request_headers(msg_id="msg_test", timestamp=int(time.time()), body=BODY, secrets=[secret])


@pytest.fixture
def listener() -> Iterator[tuple[str, str, subprocess.Popen[str]]]:
    secret, port = new_signing_secret(), free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "webhooks_listen", "--port", str(port), "--secret", secret],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "tests.testhost.settings",
        },
    )
    assert process.stdout is not None
    assert "Listening for webhooks" in process.stdout.readline()
    yield f"http://127.0.0.1:{port}/", secret, process
    process.terminate()
    process.wait(timeout=10)
    process.stdout.close()


def test_prints_each_notification_and_that_its_signature_verified(
    listener: tuple[str, str, subprocess.Popen[str]],
) -> None:
    url, secret, process = listener
    assert process.stdout is not None
    response = requests.post(url, data=BODY.encode(), headers=signed(secret), timeout=5)
    assert response.status_code == 200
    first, second = process.stdout.readline(), process.stdout.readline()
    assert "ticket.closed msg_test signature verified (--secret 1)" in first
    assert 'data: {"ticketId": 4, "reference": "zoë", "rating": null}' in second

    requests.post(url, data=BODY.encode(), headers=signed(new_signing_secret()), timeout=5)
    assert "signature NOT verified" in process.stdout.readline()


def test_checks_against_the_secrets_of_the_webhooks_in_the_database(transactional_db: None, account: object) -> None:
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9000/")
    lines: list[str] = []

    def secrets() -> list[tuple[str, str]]:
        try:
            return [(f"webhook {pk}", s) for pk, s in Webhook.objects.values_list("pk", "secret")]
        finally:
            connection.close()  # the server thread's own connection

    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(secrets, lines.append, 202))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        assert requests.post(url, data=BODY.encode(), headers=signed(webhook.secret), timeout=5).status_code == 202
        requests.post(url, data=b"not json", headers={}, timeout=5)
    finally:
        server.shutdown()
        server.server_close()
    assert f"signature verified (webhook {webhook.pk})" in lines[0]
    assert "(not JSON) - signature NOT verified" in lines[1]
    assert "not json" in lines[1]
