"""Webhooks as code: the page's services and rules (the SSRF guard included) behind account API keys."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from integrations.contrib.api.keys import api_key_create
from integrations.models import Delivery, Event, Webhook
from tests.helpers import rate_window_with_room
from tests.testhost.models import Team, Ticket
from tests.testhost.objects import close

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def key(account: Team) -> str:
    return api_key_create(account_id=account.pk, name="terraform")[1]


def call(client: Client, method: str, url: str, key: str, body: Any = None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    if method in {"get", "delete"}:
        return getattr(client, method)(url, **headers)
    data = json.dumps(body) if body is not None else None
    return getattr(client, method)(url, data=data, content_type="application/json", **headers)


def test_create_read_change_and_delete_a_webhook(client: Client, key: str, account: Team, receiver: Any) -> None:
    created = call(client, "post", "/api/v1/webhooks/", key, {"url": receiver.url_for("/hook")})
    assert created.status_code == 201
    body = created.json()
    webhook = Webhook.objects.get(pk=body["id"])
    assert (webhook.account_id, webhook.url, body["secret"]) == (account.pk, receiver.url_for("/hook"), webhook.secret)
    assert "no-store" in created["Cache-Control"]
    shown = call(client, "get", f"/api/v1/webhooks/{webhook.pk}/", key).json()
    assert "secret" not in shown  # only at creation and rotation
    changed = call(client, "patch", f"/api/v1/webhooks/{webhook.pk}/", key, {"url": receiver.url_for("/other")})
    assert changed.json()["url"] == receiver.url_for("/other")
    assert [item["id"] for item in call(client, "get", "/api/v1/webhooks/", key).json()["results"]] == [webhook.pk]
    assert call(client, "delete", f"/api/v1/webhooks/{webhook.pk}/", key).status_code == 204
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/", "Only http:// and https://"),
        ("http://169.254.169.254/latest/meta-data/", "address"),
        ("https://user:pw@example.com/", "user name or password"),
        ("https://exa mple.com/", "whitespace"),
    ],
)
def test_the_page_rules_and_the_ssrf_guard_apply(
    client: Client, settings: Any, key: str, url: str, message: str
) -> None:
    settings.INTEGRATIONS_ALLOW_PRIVATE_URLS = False
    response = call(client, "post", "/api/v1/webhooks/", key, {"url": url})
    assert response.status_code == 400
    assert message in " ".join(response.json()["url"])
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("body", [{}, {"url": 5}, {"url": None}, ["http://x/"], "text"])
def test_a_malformed_body_is_a_json_400(client: Client, key: str, body: Any) -> None:
    response = call(client, "post", "/api/v1/webhooks/", key, body)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


def test_broken_json_is_a_json_400(client: Client, key: str) -> None:
    response = client.post(
        "/api/v1/webhooks/", data="{nope", content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {key}"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"


def test_rotate_send_test_and_resend(
    client: Client, key: str, webhook: Webhook, account: Team, receiver: Any, run_worker: Any
) -> None:
    old = webhook.secret
    rotated = call(client, "post", f"/api/v1/webhooks/{webhook.pk}/rotate-secret/", key).json()
    webhook.refresh_from_db()
    assert rotated["secret"] == webhook.secret != old
    assert len(rotated["previousSecretsExpire"]) == 1
    sent = call(client, "post", f"/api/v1/webhooks/{webhook.pk}/test/", key)
    assert sent.status_code == 202
    assert Event.objects.get(type="test").msg_id == sent.json()["eventId"]
    run_worker()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.SUCCEEDED
    resent = call(client, "post", f"/api/v1/deliveries/{delivery.pk}/resend/", key)
    assert resent.status_code == 202
    run_worker()
    assert len(receiver.log) == 2
    assert {request.headers["webhook-id"] for request, _ in receiver.log} == {sent.json()["eventId"]}


def test_tests_and_resends_keep_the_pages_limit_per_key(
    client: Client, settings: Any, key: str, webhook: Webhook
) -> None:
    settings.INTEGRATIONS_ACTION_RATE = "2/m"
    rate_window_with_room(f"api-key:{key.split('.')[0]}")
    answers = [call(client, "post", f"/api/v1/webhooks/{webhook.pk}/test/", key) for _ in range(3)]
    assert [answer.status_code for answer in answers] == [202, 202, 429]
    refused = answers[-1]
    assert 1 <= int(refused["Retry-After"]) <= 60  # the rest of the limit's minute
    assert refused.json()["detail"] == (
        f"Too many tests and examples: 2 per minute are allowed. Try again in {refused['Retry-After']} seconds."
    )


def test_without_redis_the_api_reads_and_writes_and_refuses_actions_with_503(
    client: Client, key: str, webhook: Webhook, account: Team, redis_down: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="integrations.ratelimits")
    close(Ticket.objects.create(team=account, reference="saved"))  # the outbox needs no Redis
    delivery = Delivery.objects.get()
    for _ in range(3):  # the throttle cannot count: it lets requests through
        assert call(client, "get", "/api/v1/webhooks/", key).status_code == 200
        assert call(client, "get", "/api/v1/events/", key).status_code == 200
    changed = call(client, "patch", f"/api/v1/webhooks/{webhook.pk}/", key, {"description": "CRM"})
    assert (changed.status_code, changed.json()["description"]) == (200, "CRM")
    events_before = Event.objects.count()
    for url, body in (
        (f"/api/v1/webhooks/{webhook.pk}/test/", None),
        (f"/api/v1/webhooks/{webhook.pk}/example/", {"eventType": "ticket.deleted"}),
        (f"/api/v1/deliveries/{delivery.pk}/resend/", None),
        (f"/api/v1/webhooks/{webhook.pk}/recover/", {"since": "2020-01-01T00:00:00Z"}),
    ):
        refused = call(client, "post", url, key, body)
        assert refused.status_code == 503, url
        assert refused["Retry-After"] == "30"
        assert refused.json()["detail"].startswith("Nothing was sent: our rate limiter is unavailable right now")
    assert Event.objects.count() == events_before  # nothing was sent
    assert Delivery.objects.get().resend_count == 0
    # One line for each limiter, not a traceback per request.
    warnings = [record for record in caplog.records if record.name == "integrations.ratelimits"]
    assert sorted(record.limiter for record in warnings) == ["API keys' requests", "actions"]  # type: ignore[attr-defined]
    assert all(record.exc_info is None for record in warnings)


def test_another_accounts_webhooks_and_deliveries_are_404(client: Client, key: str, receiver: Any) -> None:
    other = Team.objects.create(name="Other")
    theirs = Webhook.objects.create(account=other, url=receiver.url_for("/theirs"))
    close(Ticket.objects.create(team=other, reference="x"))
    delivery = Delivery.objects.get()
    for method, url in [
        ("get", f"/api/v1/webhooks/{theirs.pk}/"),
        ("patch", f"/api/v1/webhooks/{theirs.pk}/"),
        ("delete", f"/api/v1/webhooks/{theirs.pk}/"),
        ("post", f"/api/v1/webhooks/{theirs.pk}/rotate-secret/"),
        ("post", f"/api/v1/webhooks/{theirs.pk}/test/"),
        ("post", f"/api/v1/deliveries/{delivery.pk}/resend/"),
    ]:
        response = call(client, method, url, key, {"url": receiver.url_for("/mine")})
        assert response.status_code == 404, (method, url)
    theirs.refresh_from_db()
    assert theirs.url == receiver.url_for("/theirs")
    assert not Event.objects.filter(type="test").exists()


def test_endpoints_as_code_with_subscriptions_headers_and_a_rate(client: Client, key: str, receiver: Any) -> None:
    body = {
        "url": receiver.url_for("/hook"),
        "description": "CRM",
        "event_types": ["ticket.closed"],
        "max_rate": 20,
        "custom_headers": [{"name": "X-Token", "value": "t0ken"}],
    }
    created = call(client, "post", "/api/v1/webhooks/", key, body)
    assert created.status_code == 201, created.json()
    answer = created.json()
    assert (answer["event_types"], answer["max_rate"], answer["state"]) == (["ticket.closed"], 20, "active")
    assert answer["custom_headers"] == [{"name": "X-Token"}]  # the value is write-only
    webhook = Webhook.objects.get(pk=answer["id"])
    assert webhook.custom_headers == [{"name": "X-Token", "value": "t0ken"}]
    paused = call(client, "patch", f"/api/v1/webhooks/{webhook.pk}/", key, {"is_active": False}).json()
    assert paused["state"] == "paused" and paused["event_types"] == ["ticket.closed"]  # the rest unchanged


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event_types": ["bogus"]}, "event_types"),
        ({"event_types": "ticket.closed"}, "event_types"),
        ({"max_rate": 0}, "max_rate"),
        ({"max_rate": 1001}, "max_rate"),
        ({"custom_headers": [{"name": "Host", "value": "x"}]}, "custom_headers"),
        ({"custom_headers": [{"name": "X-A", "value": "a\nb"}]}, "custom_headers"),
        ({"custom_headers": [{"name": f"X-{n}", "value": "v"} for n in range(6)]}, "custom_headers"),
        ({"description": "two\nlines"}, "description"),
        ({"url": None, "description": "no url"}, "url"),
    ],
)
def test_bad_endpoint_bodies_are_400s_that_change_nothing(
    client: Client, key: str, receiver: Any, body: dict[str, Any], field: str
) -> None:
    answer = call(client, "post", "/api/v1/webhooks/", key, {"url": receiver.url_for("/hook"), **body})
    assert answer.status_code == 400, answer.json()
    assert field in answer.json(), answer.json()  # refused for its own reason
    assert not Webhook.objects.exists()
    assert call(client, "post", "/api/v1/webhooks/", key, ["not", "an", "object"]).status_code == 400


def test_the_endpoint_limit_applies_to_the_api(
    client: Client, key: str, account: Team, settings: Any, receiver: Any
) -> None:
    settings.INTEGRATIONS_ENDPOINTS_MAX = 1
    Webhook.objects.create(account=account, url=receiver.url_for("/one"))
    answer = call(client, "post", "/api/v1/webhooks/", key, {"url": receiver.url_for("/two")})
    assert answer.status_code == 400 and "at most 1 endpoints" in json.dumps(answer.json())


def test_recover_counts_on_a_dry_run_then_resends_once(
    client: Client, key: str, webhook: Webhook, account: Team
) -> None:
    close(Ticket.objects.create(team=account, reference="lost"))
    Delivery.objects.update(status=Delivery.Status.FAILED, next_attempt_at=None)
    url = f"/api/v1/webhooks/{webhook.pk}/recover/"
    since = "2020-01-01T00:00:00Z"
    rate_window_with_room(f"api-key:{key.split('.')[0]}", room=10)  # the recoveries below in one window
    dry = call(client, "post", url, key, {"since": since, "dryRun": True})
    assert (dry.status_code, dry.json()["count"], dry.json()["dryRun"]) == (200, 1, True)
    assert Delivery.objects.get().status == Delivery.Status.FAILED
    done = call(client, "post", url, key, {"since": since})
    assert (done.status_code, done.json()["count"]) == (202, 1)
    assert Delivery.objects.get().status == Delivery.Status.PENDING
    assert call(client, "post", url, key, {"since": since}).json()["count"] == 0  # not twice
    assert call(client, "post", url, key, {"since": "yesterday"}).status_code == 400
    assert call(client, "post", url, key, {"since": "2999-01-01T00:00:00Z"}).status_code == 400
    answers = [call(client, "post", url, key, {"since": since}).status_code for _ in range(5)]
    assert answers[-1] == 429


def test_send_an_example_through_the_api(
    client: Client, key: str, webhook: Webhook, receiver: Any, run_worker: Any
) -> None:
    url = f"/api/v1/webhooks/{webhook.pk}/example/"
    assert call(client, "post", url, key, {"eventType": "test"}).status_code == 400  # not a catalog event
    answer = call(client, "post", url, key, {"eventType": "note.changed"})
    assert answer.status_code == 202
    run_worker()
    [(request, _)] = receiver.log
    assert request.headers["Webhook-Id"] == answer.json()["eventId"]
    assert json.loads(request.get_data())["data"]["ticketId"] == 0
    assert Event.objects.get().is_example
