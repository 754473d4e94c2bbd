"""`GET events/`: from a `webhook-id` to what was sent and how each attempt went; the API keys tab."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.contrib.api.keys import API_KEYS_MAX, api_key_create
from integrations.contrib.api.models import AccountAPIKey
from integrations.models import Event, Webhook
from tests.testhost.models import Team, Ticket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def key(account: Team) -> str:
    return api_key_create(account_id=account.pk, name="CRM sync")[1]


def api(client: Client, url: str, key: str) -> Any:
    return client.get(url, HTTP_AUTHORIZATION=f"Api-Key {key}")


def closed(account: Team, reference: str, rating: int | None = None) -> Ticket:
    return Ticket.objects.create(team=account, reference=reference, closed_at=timezone.now(), rating=rating)


def test_an_event_by_its_webhook_id_with_deliveries_and_attempts(
    client: Client, key: str, account: Team, webhook: Webhook, run_worker: Any
) -> None:
    ticket = closed(account, "alice", rating=3)
    run_worker()
    event = Event.objects.get()
    body = api(client, f"/api/v1/events/{event.msg_id}/", key).json()
    assert body["id"] == event.msg_id
    assert body["type"] == "ticket.closed"
    assert body["body"] == event.body  # the exact bytes sent
    assert body["data"] == {"ticketId": ticket.pk, "reference": "alice", "rating": 3}
    [delivery] = body["deliveries"]
    assert (delivery["endpoint"], delivery["status"], delivery["attempt_count"]) == (webhook.pk, "succeeded", 1)
    assert delivery["attempts"][0]["status_code"] == 200
    ticket_id = ticket.pk
    ticket.delete()
    deleted = Event.objects.get(type="ticket.deleted")
    body = api(client, f"/api/v1/events/{deleted.msg_id}/", key).json()
    assert body["data"] == {"ticketId": ticket_id, "reference": "alice"}  # what was deleted


def test_events_filter_by_type_subject_fields_and_time(
    client: Client, key: str, account: Team, webhook: Webhook
) -> None:
    """The adapter's subject_fields (ticketId, reference) are shown and filtered on."""
    first = closed(account, "a")
    closed(account, "b")
    first_id = first.pk
    first.delete()

    def ids(query: str) -> list[tuple[str, str]]:
        results = api(client, f"/api/v1/events/?{query}", key).json()["results"]
        return [(item["type"], item["reference"]) for item in results]

    assert ids("") == [("ticket.deleted", "a"), ("ticket.closed", "b"), ("ticket.closed", "a")]
    assert ids("type=ticket.closed") == [("ticket.closed", "b"), ("ticket.closed", "a")]
    assert ids("reference=a") == [("ticket.deleted", "a"), ("ticket.closed", "a")]
    assert ids(f"ticketId={first_id}&type=ticket.deleted") == [("ticket.deleted", "a")]
    assert ids("ticketId=999999") == []
    assert ids("since=2999-01-01T00:00:00Z") == []


@pytest.mark.parametrize(
    "query", ["type=sometype", "ticketId=x", "ticketId=-1", "since=soon", "ticketId=99999999999999999999999"]
)
def test_bad_event_filters_are_a_json_400(client: Client, key: str, query: str) -> None:
    response = api(client, f"/api/v1/events/?{query}", key)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


def test_another_accounts_event_is_a_404(client: Client, key: str, webhook: Webhook) -> None:
    other = Team.objects.create(name="Other")
    Webhook.objects.create(account=other, url=webhook.url)
    closed(other, "x")
    theirs = Event.objects.get(account=other)
    for msg_id in (theirs.msg_id, "msg_" + "0" * 32, "msg_nothex", "nothing"):
        response = api(client, f"/api/v1/events/{msg_id}/", key)
        assert response.status_code == 404, msg_id
    assert api(client, "/api/v1/events/", key).json()["results"] == []


def test_admins_create_a_key_shown_once_and_revoke_it(client: Client, admin_user: Any) -> None:
    client.force_login(admin_user)
    page = client.post(reverse("integrations:api_keys"), {"name": "CRM sync", "expires_in_days": "30"})
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    text = page.content.decode()
    api_key = AccountAPIKey.objects.get()
    start = text.index('id="new-api-key">') + len('id="new-api-key">')
    shown = text[start : text.index("<", start)]
    assert shown.startswith(api_key.prefix + ".")
    assert shown not in api_key.hashed_key and shown not in api_key.id  # stored hashed
    assert api_key.expiry_date is not None
    assert shown not in client.get(reverse("integrations:api_keys")).content.decode()  # shown once
    assert client.get("/api/v1/events/", HTTP_AUTHORIZATION=f"Api-Key {shown}").status_code == 200
    revoke = reverse("integrations:api_key_revoke", args=[api_key.prefix])
    asked = client.get(revoke).content.decode()
    assert "Revoke the key “CRM sync”" in asked and "It was last used on" in asked  # by the request above
    assert "cannot be undone" in asked
    assert client.get("/api/v1/events/", HTTP_AUTHORIZATION=f"Api-Key {shown}").status_code == 200  # asking: nothing
    client.post(revoke)
    assert client.get("/api/v1/events/", HTTP_AUTHORIZATION=f"Api-Key {shown}").status_code == 401


def test_a_key_records_its_creator_and_is_flagged_once_they_are_no_longer_an_admin(
    client: Client, admin_user: Any, account: Team, django_user_model: Any
) -> None:
    grace = django_user_model.objects.create_user(username="grace", password="pw-long-enough")
    account.admins.add(grace)
    client.force_login(grace)
    client.post(reverse("integrations:api_keys"), {"name": "Grace's sync"})
    client.force_login(admin_user)
    client.post(reverse("integrations:api_keys"), {"name": "Ada's sync"})
    api_key_create(account_id=account.pk, name="made before creators were recorded")
    assert dict(AccountAPIKey.objects.values_list("name", "created_by_name")) == {
        "Grace's sync": "grace",
        "Ada's sync": "ada",
        "made before creators were recorded": "",
    }
    flag = "created by someone who is no longer an admin: revoke it if you don't know who uses it"

    def tab() -> str:
        return client.get(reverse("integrations:api_keys")).content.decode()

    assert flag not in tab()
    account.admins.remove(grace)  # demoted
    account.members.add(grace)
    page = tab()
    assert page.count(flag) == 1
    assert "Some keys were created by someone who is no longer an admin of this account." in page
    row = page[page.index("Grace&#x27;s sync") : page.index("</tr>", page.index("Grace&#x27;s sync"))]
    assert "grace" in row and flag in row
    grace.delete()  # gone altogether: the key still works, and the tab still names who made it
    assert AccountAPIKey.objects.get(name="Grace's sync").created_by is None
    page = tab()
    assert page.count(flag) == 1
    assert "grace" in page


def test_keys_are_limited_per_account_with_a_clear_message(client: Client, admin_user: Any, account: Team) -> None:
    for number in range(API_KEYS_MAX):
        api_key_create(account_id=account.pk, name=f"key {number}")
    client.force_login(admin_user)
    page = client.post(reverse("integrations:api_keys"), {"name": "one more"})
    assert page.status_code == 400
    assert f"can hold {API_KEYS_MAX} keys" in page.content.decode()
    assert AccountAPIKey.objects.count() == API_KEYS_MAX


def test_a_keys_body_is_valid_json_for_every_event_type(client: Client, key: str, account: Team, webhook: Any) -> None:
    closed(account, "zoë 🙂")
    for item in api(client, "/api/v1/events/", key).json()["results"]:
        assert json.loads(item["body"])["data"] == item["data"]
