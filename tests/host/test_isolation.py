"""Accounts never see each other: every URL of the project is enumerated and tried as the wrong person.

A view added later is tried too, without anyone writing a test for it: its URL must be classified
below, and it must answer another account's ids with a 404, and people without the right role
with a 404 (or the login page when signed out).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts.models import Account, Membership
from chats.models import Chat, Feedback, Flow, Prompt, Response
from integrations.contrib.api.keys import api_key_create, api_key_revoke
from integrations.models import Delivery, DeliveryAttempt, Event, Webhook
from integrations.webhooks import webhook_rotate_secret

# Who may open each URL, by URL name (namespace:name). A new URL must be added here.
# A share link is for anyone who has it; the API's schema and docs say nothing about any account.
PUBLIC = {"login", "logout", "chats:participant", "api-schema", "api-docs", "healthz"}
# The operator's bearer token, no account's (tests/integrations/test_operations.py): no account data behind it.
OPERATORS = {"metrics"}
SIGNED_IN = {"home"}  # any signed-in user; shows only their own account
ACCOUNT_ADMINS = {
    "integrations:index",
    "integrations:account_switch",
    "integrations:webhook",
    "integrations:endpoint",
    "integrations:endpoint_delete",
    "integrations:endpoint_enable",
    "integrations:endpoint_rotate_secret",
    "integrations:endpoint_end_secret",
    "integrations:endpoint_send_test",
    "integrations:endpoint_send_example",
    "integrations:endpoint_recover",
    "integrations:endpoint_retry_now",
    "integrations:events",
    "integrations:event_send_example",
    "integrations:deliveries",
    "integrations:delivery",
    "integrations:delivery_resend",
    "integrations:api_keys",
    "integrations:api_key_revoke",
    "chats:flow",
    "chats:chat",
    "chats:feedback",
    "chats:chat_delete",
}
# The details API: an account API key, and only that account's objects.
API_KEY_HOLDERS = {
    "api:events",
    "api:event",
    "api:flows",
    "api:flow",
    "api:chats",
    "api:chat",
    "api:response",
    "api:webhooks",
    "api:webhook",
    "api:webhook_rotate",
    "api:webhook_test",
    "api:webhook_example",
    "api:webhook_recover",
    "api:delivery_resend",
}
# Lists of the key's own account (which has nothing in these tests).
API_LISTS = {"api:events", "api:flows", "api:webhooks"}
# Operators' tools, behind Django's staff check (tested at the end).
STAFF_NAMESPACES = {"admin", "django_rq"}


def url_patterns(resolver: URLResolver | None = None, namespace: str = "") -> Iterator[tuple[str, URLPattern, str]]:
    """(qualified name, pattern, namespace) of every named URL pattern in the project."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = entry.namespace or namespace
            yield from url_patterns(entry, f"{inner}" if inner else "")
        elif entry.name:
            yield (f"{namespace}:{entry.name}" if namespace else entry.name), entry, namespace


def snapshot(account: Account) -> str:
    rows = [
        *Webhook.objects.filter(account=account).values_list(),
        *Event.objects.filter(account=account).values_list(),
        *Delivery.objects.filter(event__account=account).values_list(),
        *DeliveryAttempt.objects.filter(delivery__event__account=account).values_list(),
        *Chat.objects.filter(flow__account=account).values_list(),
        *Response.objects.filter(chat__flow__account=account).values_list(),
        *Feedback.objects.filter(response__chat__flow__account=account).values_list(),
    ]
    return hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest()


@pytest.fixture
def theirs(django_user_model: Any) -> dict[str, Any]:
    """Another account, with a webhook, a delivery and its attempt: what must stay out of reach."""
    account = Account.objects.create(name="Rival Corp")
    admin = django_user_model.objects.create_user(username="rival-admin", password="pw-long-enough")
    Membership.objects.create(account=account, user=admin, role=Membership.Role.ADMIN)
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9/rival-secret-path")
    retired = webhook_rotate_secret(webhook=webhook).replaced  # a previous secret, still signing
    flow = Flow.objects.create(account=account, name="Rival flow")
    Chat.objects.create(flow=flow, identifier="rival-participant", status=Chat.Status.COMPLETED)
    delivery = Delivery.objects.get(webhook=webhook)
    chat = Chat.objects.get(flow=flow)
    prompt = Prompt.objects.create(flow=flow, name="q", text="?", position=0)
    api_key, key = api_key_create(account_id=account.pk, name="rival key")
    response = Response.objects.create(chat=chat, prompt=prompt, answer="rival-answer")
    from django.utils import timezone

    DeliveryAttempt.objects.create(
        delivery=delivery, attempted_at=timezone.now(), succeeded=False, status_code=500, duration_ms=3
    )
    return {
        "account": account,
        "webhook": webhook,
        "delivery": delivery,
        "flow": flow,
        "chat": chat,
        "response": response,
        "api_key": api_key,
        "key": key,
        "retired": retired,
    }


def fill(name: str, pattern: URLPattern, theirs: dict[str, Any]) -> str:
    """The URL, with every id in it taken from the other account."""
    ids = {
        "delivery_id": theirs["delivery"].pk,
        "flow_id": theirs["flow"].pk,
        "chat_id": theirs["chat"].pk,
        "response_id": theirs["response"].pk,
        "token": theirs["flow"].share_token,
        "msg_id": theirs["delivery"].event.msg_id,
        "identifier": theirs["chat"].identifier,
        "prompt_name": theirs["response"].prompt.name,
        "prefix": theirs["api_key"].prefix,
        "secret_prefix": theirs["retired"].prefix,
        "webhook_id": theirs["delivery"].webhook_id,
    }
    kwargs = {}
    for key in pattern.pattern.converters:
        assert key in ids, f"teach the isolation test which object fills <{key}> of {name}"
        kwargs[key] = ids[key]
    return reverse(name, kwargs=kwargs)


def every_url(theirs: dict[str, Any]) -> list[tuple[str, str]]:
    urls = []
    for name, pattern, namespace in url_patterns():
        if namespace in STAFF_NAMESPACES:
            continue
        assert name in PUBLIC | OPERATORS | SIGNED_IN | ACCOUNT_ADMINS | API_KEY_HOLDERS, (
            f"classify the new URL {name!r} in {__file__}"
        )
        urls.append((name, fill(name, pattern, theirs)))
    return urls


def test_every_url_is_classified(db: None, theirs: dict[str, Any]) -> None:
    names = {name for name, _ in every_url(theirs)}
    assert (
        names == PUBLIC | OPERATORS | SIGNED_IN | ACCOUNT_ADMINS | API_KEY_HOLDERS
    )  # and nothing listed here has gone


def test_signed_out_visitors_get_the_login_page(client: Client, theirs: dict[str, Any]) -> None:
    before = snapshot(theirs["account"])
    for name, url in every_url(theirs):
        if name in PUBLIC | OPERATORS | API_KEY_HOLDERS:
            continue
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, (name, method)
            assert response["Location"].startswith(reverse("login")), name
    assert snapshot(theirs["account"]) == before


def test_an_admin_of_another_account_gets_404s_and_changes_nothing(
    client: Client, admin_user: Any, account: Account, theirs: dict[str, Any]
) -> None:
    Webhook.objects.create(account=account, url="http://127.0.0.1:9/mine")  # their own webhook exists too
    client.force_login(admin_user)
    before = snapshot(theirs["account"])
    for name, url in every_url(theirs):
        if name in PUBLIC | OPERATORS:
            continue
        for method in ("get", "post"):
            response = getattr(client, method)(url, follow=True)
            page = response.content.decode()
            # Never the other account's data, whatever the page is.
            assert theirs["webhook"].url not in page, (name, method)
            assert theirs["webhook"].secret not in page, (name, method)
            assert theirs["delivery"].event.msg_id not in page, (name, method)
            assert "rival-participant" not in page, (name, method)
            assert "rival-answer" not in page, (name, method)
            if name in API_KEY_HOLDERS:
                assert response.status_code == 401, (name, method)  # a session is not a key
            elif pattern_has_ids(url, theirs):
                assert response.status_code in {404, 405}, (name, method, response.status_code)
    assert snapshot(theirs["account"]) == before


def test_an_api_key_of_another_account_gets_404s_and_no_key_gets_401s(
    client: Client, account: Account, theirs: dict[str, Any]
) -> None:
    own_key = api_key_create(account_id=account.pk, name="mine")[1]
    revoked = api_key_create(account_id=account.pk, name="revoked")
    api_key_revoke(account_id=account.pk, prefix=revoked[0].prefix)
    expired = api_key_create(account_id=account.pk, name="old", expires_at=timezone.now() - timedelta(seconds=1))[1]
    refused = {
        "none": {},
        "malformed": {"HTTP_AUTHORIZATION": "Api-Key nodot"},
        "another scheme": {"HTTP_AUTHORIZATION": f"Bearer {own_key}"},
        "wrong": {"HTTP_AUTHORIZATION": f"Api-Key {own_key[:9]}{'x' * 32}"},
        "revoked": {"HTTP_AUTHORIZATION": f"Api-Key {revoked[1]}"},
        "expired": {"HTTP_AUTHORIZATION": f"Api-Key {expired}"},
    }
    before = snapshot(theirs["account"])
    for name, url in every_url(theirs):
        if name not in API_KEY_HOLDERS:
            continue
        for method in ("get", "post"):
            for kind, headers in refused.items():
                answer = getattr(client, method)(url, **headers)
                assert answer.status_code == 401, (name, method, kind)
                assert answer["Content-Type"] == "application/json", (name, method, kind)
            response = getattr(client, method)(url, HTTP_AUTHORIZATION=f"Api-Key {own_key}")
            page = response.content.decode()
            assert response["Content-Type"] == "application/json", (name, method)
            for leak in ("rival-participant", "rival-answer", theirs["delivery"].event.msg_id, "Rival flow"):
                assert leak not in page, (name, method, leak)
            if name in API_LISTS and method == "get":  # only the key's account's, and it has none
                assert response.status_code == 200 and response.json()["results"] == [], name
            elif name in API_LISTS:
                assert response.status_code in {400, 405}, (name, method, response.status_code)  # no body
            else:
                assert response.status_code in {404, 405}, (name, method, response.status_code)
    assert snapshot(theirs["account"]) == before


def pattern_has_ids(url: str, theirs: dict[str, Any]) -> bool:
    return any(f"/{theirs[key].pk}/" in url for key in ("delivery", "flow", "chat", "response", "webhook"))


@pytest.mark.parametrize("role", ["member", "no account"])
def test_people_who_are_not_account_admins_get_404s(
    client: Client, account: Account, django_user_model: Any, theirs: dict[str, Any], role: str
) -> None:
    user = django_user_model.objects.create_user(username="someone", password="pw-long-enough")
    if role == "member":
        Membership.objects.create(account=account, user=user, role=Membership.Role.MEMBER)
    Webhook.objects.create(account=account, url="http://127.0.0.1:9/theirs-to-manage")
    client.force_login(user)
    before = snapshot(theirs["account"]), snapshot(account)
    for name, url in every_url(theirs):
        if name not in ACCOUNT_ADMINS:
            continue
        for method in ("get", "post"):
            status = getattr(client, method)(url).status_code
            assert status in {404, 405}, (name, method, status)
    assert (snapshot(theirs["account"]), snapshot(account)) == before


def test_operator_tools_need_staff(client: Client, admin_user: Any) -> None:
    client.force_login(admin_user)  # an account admin, not staff
    for url in ("/admin/", "/admin/integrations/webhook/", "/admin/django-rq/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/admin/login/" in response["Location"], url


def test_every_form_action_needs_a_csrf_token(admin_user: Any, account: Account, flow: Flow) -> None:
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9/mine")
    chat = Chat.objects.create(flow=flow, identifier="own", status=Chat.Status.COMPLETED)
    response = Response.objects.create(chat=chat, prompt=flow.prompts.first(), answer="mine")
    own = {
        "delivery": Delivery.objects.get(webhook=webhook),
        "flow": flow,
        "chat": chat,
        "response": response,
        "api_key": api_key_create(account_id=account.pk, name="mine")[0],
        "retired": webhook_rotate_secret(webhook=webhook).replaced,
    }
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    before = snapshot(account)
    for name, url in every_url(own):
        if name in API_KEY_HOLDERS | OPERATORS | {"api-schema", "api-docs", "healthz"}:
            continue  # no cookies there: a key in a header is never sent by a browser on its own
        assert client.post(url).status_code == 403, name
    assert snapshot(account) == before
