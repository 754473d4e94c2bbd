"""The documented commands as separate processes: migrate, a shell save, and `rqworker webhooks`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import standardwebhooks
from django_rq.workers import get_worker
from rq import SimpleWorker

from integrations.worker import WebhookWorker

# The database plays no part: the processes use a SQLite file of their own.
pytestmark = pytest.mark.once

ROOT = Path(__file__).resolve().parents[2]

CREATE_AND_COMPLETE = """
from accounts.models import Account
from chats.models import Chat, Flow
from integrations.models import Webhook
account = Account.objects.create(name="Process Co")
webhook = Webhook.objects.create(account=account, url="{url}")
flow = Flow.objects.create(account=account, name="Flow")
chat = Chat.objects.create(flow=flow, identifier="from-a-shell")
chat.status = "completed"
chat.score = 9
chat.save()
print(webhook.secret, flow.pk)
"""


def test_the_worker_setting_gives_the_plain_command_a_non_forking_worker_with_a_sender(redis_url: str) -> None:
    worker = get_worker("webhooks")
    assert type(worker) is WebhookWorker
    assert isinstance(worker, SimpleWorker)
    worker.connection.close()


def test_a_shell_save_is_delivered_by_the_documented_worker_command(
    tmp_path: Path, redis_url: str, receiver: Any
) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dialogform_hooks.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_URL": redis_url,
        "INTEGRATIONS_ALLOW_PRIVATE_URLS": "1",
    }

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done

    manage("migrate", "--no-input")
    secret, flow_id = manage(
        "shell", "-v0", "-c", CREATE_AND_COMPLETE.format(url=receiver.url_for("/hook"))
    ).stdout.split()
    worker = manage("rqworker", "webhooks", "--burst")
    output = worker.stdout + worker.stderr

    assert "integrations.jobs.deliver_webhook" in output
    [(request, _)] = receiver.log
    body = standardwebhooks.Webhook(secret).verify(request.get_data(), dict(request.headers))
    assert body == {"type": "completed", "data": {"flowId": int(flow_id), "identifier": "from-a-shell", "score": 9}}
