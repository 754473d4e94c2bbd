"""No log line names a receiver's URL path or query, whichever library writes it.

Customers put tokens in their endpoints' paths and queries. A real worker process sends to every
hostile receiver of the suite (tests/hostile_receivers.py), each at a URL whose
path and query hold a marker, with every logger at DEBUG, in plain and in JSON lines; the marker
is in none of its lines. Before, urllib3 logged `Failed to parse headers (url=<the whole URL>)`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import Account
from chats.models import Chat, Flow
from integrations.models import Delivery, DeliveryAttempt, Webhook
from tests import hostile_receivers
from tests.faults.helpers import Processes
from tests.hostile_receivers import HOSTILE_ANSWERS, RawReceiver

MARKER = "Tok3nInTheUrl"


raw_receiver = hostile_receivers.raw_receiver  # the fixture: a raw-socket receiver on loopback


@pytest.mark.once  # the worker's logging is the same whatever the database
@pytest.mark.parametrize("log_format", ["plain", "json"])
def test_no_log_line_of_the_worker_names_a_receivers_path_or_query(
    processes: Callable[..., Processes], raw_receiver: RawReceiver, log_format: str
) -> None:
    for number, answer in enumerate(HOSTILE_ANSWERS.values()):
        path = f"/hooks/{MARKER}-{number}?token={MARKER}-{number}"
        raw_receiver.answers_by_path[path.encode()] = answer
        account = Account.objects.create(name=f"Receiver {number}")
        Webhook.objects.create(account=account, url=f"http://127.0.0.1:{raw_receiver.port}{path}")
        flow = Flow.objects.create(account=account, name="Flow")
        Chat.objects.create(flow=flow, identifier=f"chat-{number}", status=Chat.Status.COMPLETED)
    group = processes(
        INTEGRATIONS_ATTEMPT_TIMEOUT=2.0, INTEGRATIONS_CLAIM_LEASE_SECONDS=10.0, INTEGRATIONS_RETRY_SCHEDULE="3600"
    )
    group.env.update(LOG_FORMAT=log_format, LOG_LEVEL="DEBUG", INTEGRATIONS_LOG_LEVEL="DEBUG", DJANGO_LOG_LEVEL="DEBUG")
    worker = group.start("worker", "rqworker", "webhooks", "--burst")
    assert worker.wait(timeout=120) == 0, group.output()

    # Every receiver was sent to, and its attempt is on record: the walk did what it says.
    assert DeliveryAttempt.objects.count() == Delivery.objects.count() == len(HOSTILE_ANSWERS)
    assert raw_receiver.requests >= len(HOSTILE_ANSWERS) - 1  # bytes that are not HTTP may close first
    lines = (group.logs / "worker.log").read_text(errors="replace").splitlines()
    failed = [line for line in lines if "attempt failed" in line]
    assert len(failed) >= len(HOSTILE_ANSWERS) // 2, lines
    if log_format == "json":
        records: list[dict[str, Any]] = [json.loads(line) for line in lines if line.startswith("{")]
        assert {record["logger"] for record in records} >= {"integrations.telemetry", "rq.worker"}
    assert [line for line in lines if MARKER in line] == []
