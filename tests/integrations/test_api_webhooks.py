"""Webhooks as code: the page's services and rules (the SSRF guard included) behind account API keys."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from accounts.models import Account
from chats.models import Chat, Flow
from integrations.apikeys import api_key_create
from integrations.models import Delivery, Event, Webhook

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def key(account: Account) -> str:
    return api_key_create(account_id=account.pk, name="terraform")[1]


def call(client: Client, method: str, url: str, key: str, body: Any = None) -> Any:
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    if method in {"get", "delete"}:
        return getattr(client, method)(url, **headers)
    data = json.dumps(body) if body is not None else None
    return getattr(client, method)(url, data=data, content_type="application/json", **headers)


def test_create_read_change_and_delete_a_webhook(client: Client, key: str, account: Account, receiver: Any) -> None:
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
    client: Client, key: str, webhook: Webhook, flow: Flow, receiver: Any, run_worker: Any
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
    answers = [call(client, "post", f"/api/v1/webhooks/{webhook.pk}/test/", key).status_code for _ in range(3)]
    assert answers == [202, 202, 429]


def test_another_accounts_webhooks_and_deliveries_are_404(client: Client, key: str, receiver: Any) -> None:
    other = Account.objects.create(name="Other")
    theirs = Webhook.objects.create(account=other, url=receiver.url_for("/theirs"))
    Chat.objects.create(flow=Flow.objects.create(account=other, name="F"), identifier="x", status="completed")
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
