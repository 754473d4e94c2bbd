"""No page or API list reads the history to show a page of it: every query on deliveries, attempts, events
and the endpoints' counts is served by an index (EXPLAIN on PostgreSQL, production's database).

Sequential scans are priced out (`enable_seqscan = off`): a query that still scans a table has no index
that serves it, which on millions of rows means reading them all. A small history is enough: the plan's
shape, not its timing, is what is checked (bench/run.py --only scale times them at 1,000,000).
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from integrations.contrib.api.keys import api_key_create
from integrations.models import Delivery, DeliveryAttempt, Event, Webhook
from integrations.sending.store import attempts_write
from tests.testhost.models import Team

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="EXPLAIN's plans are PostgreSQL's (make test's second run)"
    ),
]

HISTORY_TABLES = (
    "integrations_delivery",
    "integrations_deliveryattempt",
    "integrations_event",
    "integrations_endpoint",
)


@pytest.fixture
def history(account: Team) -> dict[str, Any]:
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9/plans")
    now = timezone.now()
    entries = []
    for number in range(60):
        event = Event.objects.create(
            account=account, type="ticket.closed", body="{}", subject_id=1, subject_key=f"p{number}"
        )
        delivery = Delivery.objects.create(
            event=event, webhook=webhook, status="failed" if number % 5 == 0 else "succeeded", claim_token=uuid.uuid4()
        )
        attempt = DeliveryAttempt(
            delivery=delivery,
            attempted_at=now - timedelta(hours=number),
            succeeded=number % 5 != 0,
            duration_ms=40 + number,
            status_code=200,
        )
        entries.append((delivery, attempt))
    attempts_write([(attempt, delivery.webhook_id) for delivery, attempt in entries])
    with connection.cursor() as cursor:
        for table in ("integrations_delivery", "integrations_deliveryattempt", "integrations_event"):
            cursor.execute(f"ANALYZE {table}")
    return {"webhook": webhook, "delivery": entries[30][0], "event": entries[30][0].event}


def requests_made(client: Client, key: str, history: dict[str, Any]) -> list[tuple[str, dict[str, str]]]:
    webhook, delivery = history["webhook"], history["delivery"]
    log = reverse("integrations:deliveries")
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    return [
        (log, {}),
        (f"{log}?status=failed", {}),
        (f"{log}?endpoint={webhook.pk}", {}),
        (f"{log}?endpoint={webhook.pk}&status=failed", {}),
        (f"{log}?status=retrying", {}),
        (f"{log}?endpoint={webhook.pk}&status=pending", {}),
        (f"{log}?older={delivery.pk}", {}),
        (f"{log}?newer={delivery.pk}", {}),
        (f"{log}?endpoint={webhook.pk}&status=succeeded&older={delivery.pk}", {}),
        (reverse("integrations:delivery", args=[delivery.pk]), {}),
        (reverse("integrations:endpoint", args=[webhook.pk]), {}),
        (reverse("integrations:webhook"), {}),
        ("/api/v1/events/", auth),
        ("/api/v1/events/?type=ticket.closed", auth),
        ("/api/v1/events/?ticketId=1&reference=p3", auth),  # the test host's subject_fields
        (f"/api/v1/events/{history['event'].msg_id}/", auth),
        ("/api/v1/webhooks/", auth),
        ("/admin/integrations/delivery/", {}),
        ("/admin/integrations/delivery/?status__exact=failed", {}),
        ("/admin/integrations/event/", {}),
        ("/admin/integrations/event/?type=ticket.closed", {}),
        (f"/api/v1/webhooks/{webhook.pk}/", auth),
    ]


def test_no_page_or_list_scans_the_history(client: Client, admin_user: Any, history: dict[str, Any]) -> None:
    admin_user.is_staff = admin_user.is_superuser = True  # the Django admin's log tables too
    admin_user.save()
    client.force_login(admin_user)
    key = api_key_create(account_id=history["webhook"].account_id, name="plans")[1]
    scans = []
    checked = 0
    requests = requests_made(client, key, history)
    for url, headers in requests:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url, **headers).status_code == 200, url
        for query in captured.captured_queries:
            sql = query["sql"]
            if not sql.startswith("SELECT") or not any(table in sql for table in HISTORY_TABLES):
                continue
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
                cursor.execute(f"EXPLAIN {sql}")
                plan = "\n".join(row[0] for row in cursor.fetchall())
            scanned = re.findall(r"Seq Scan on (integrations_(?:delivery|deliveryattempt|event|endpoint\w*))\b", plan)
            checked += 1
            if scanned:
                scans.append(f"{url}: {sql}\n{plan}")
    assert checked >= len(requests)  # every request read the history at least once
    assert not scans, "\n\n".join(scans)
