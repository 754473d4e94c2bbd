"""An admin finds the Webhook tab as the spec says (avatar → Integrations → Webhook), adds endpoints, sends examples,
recovers after an outage and rotates a secret, in real Chromium; and the pages fit a phone."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from chats.models import Chat, Flow
from integrations.adapter import subscribable_names
from integrations.models import Delivery, Webhook


def log_in(page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()


def add_endpoint(page: Page, url: str, events: set[str], description: str = "") -> None:
    page.get_by_label("Endpoint URL").fill(url)
    page.get_by_label("Description").fill(description)
    for event_type in subscribable_names():
        page.get_by_label(event_type, exact=True).set_checked(event_type in events)
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_text("Endpoint added")).to_be_visible()


def types_at(receiver: Any, path: str) -> list[str]:
    return [json.loads(request.get_data())["type"] for request, _ in receiver.log if request.path == path]


@pytest.mark.django_db(transaction=True)
def test_two_endpoints_added_through_the_avatar_menu_each_get_only_their_events(
    page: Page,
    live_server: Any,
    admin_user: Any,
    account: Any,
    flow: Flow,
    httpserver: Any,
    run_worker: Callable[[], None],
    screenshot: Callable[[str], None],
) -> None:
    for path in ("/crm", "/ops"):
        httpserver.expect_request(path, method="POST").respond_with_data("ok")
    log_in(page, live_server)
    page.get_by_label("Account menu").click()
    page.keyboard.press("Escape")  # the menu closes on Escape
    expect(page.get_by_role("link", name="Integrations")).to_be_hidden()
    page.get_by_label("Account menu").click()
    page.get_by_role("link", name="Integrations").click()
    page.get_by_role("navigation", name="Integrations").get_by_role("link", name="Webhook").click()
    expect(page.get_by_role("heading", name="Webhook", exact=True)).to_be_visible()

    page.get_by_label("Endpoint URL").fill("htps://example.com/hooks")
    page.get_by_role("button", name="Add endpoint").click()
    expect(page.get_by_text("Did you mean https://example.com/hooks?")).to_be_visible()
    expect(page.get_by_label("Endpoint URL")).to_be_focused()  # the focus is on the field in error
    assert not Webhook.objects.exists()

    add_endpoint(page, httpserver.url_for("/crm"), {"completed"}, "CRM")
    page.get_by_role("link", name="← All endpoints").click()
    add_endpoint(page, httpserver.url_for("/ops"), {"deleted"}, "Ops")
    crm, ops = Webhook.objects.order_by("id")
    assert (crm.event_types, ops.event_types) == (["completed"], ["deleted"])

    chat = Chat.objects.create(flow=flow, identifier="alice", status=Chat.Status.COMPLETED)
    chat.delete()
    run_worker()
    assert types_at(httpserver, "/crm") == ["completed"]
    assert types_at(httpserver, "/ops") == ["deleted"]
    page.get_by_role("navigation", name="Integrations").get_by_role("link", name="Webhook").click()
    expect(page.locator("#endpoints").get_by_text("100% of 1 succeeded")).to_have_count(2)
    screenshot("integrations-webhook")


@pytest.mark.django_db(transaction=True)
def test_an_example_and_a_test_show_their_outcome_in_place(
    page: Page,
    live_server: Any,
    admin_user: Any,
    webhook: Webhook,
    receiver: Any,
    run_worker: Callable[[], None],
    screenshot: Callable[[str], None],
) -> None:
    log_in(page, live_server)
    page.goto(f"{live_server.url}/integrations/webhook/events/")
    expect(page.locator("#example-feedbackUpdated")).to_contain_text('"flowId": 0')
    screenshot("integrations-event-catalog")
    page.get_by_label("Send example to").nth(2).select_option(str(webhook.pk))
    page.get_by_role("button", name="Send example").nth(2).click()
    result = page.locator("#test-result")
    expect(result).to_contain_text("Pending")  # no worker has run yet
    run_worker()
    expect(result).to_contain_text("Succeeded", timeout=8_000)  # it updated itself (htmx polling)
    assert types_at(receiver, "/hook") == ["feedbackUpdated"]

    receiver.clear()
    receiver.expect_request("/hook", method="POST").respond_with_data("nope", status=500)
    page.get_by_role("button", name="Send test").click()
    run_worker()
    expect(page.locator("#test-result")).to_contain_text("The receiver answered HTTP 500.", timeout=8_000)
    expect(page.locator("#test-result")).to_contain_text("Next attempt at")
    screenshot("integrations-endpoint")


@pytest.mark.django_db(transaction=True)
def test_recover_after_an_outage_and_rotate_the_secret(
    page: Page,
    live_server: Any,
    admin_user: Any,
    flow: Flow,
    webhook: Webhook,
    receiver: Any,
    run_worker: Callable[[], None],
    settings: Any,
    screenshot: Callable[[str], None],
) -> None:
    settings.INTEGRATIONS_RETRY_SCHEDULE = ""  # no retries: the outage's deliveries fail for good at once
    receiver.clear()
    receiver.expect_request("/hook", method="POST").respond_with_data("down", status=503)
    for identifier in ("during-1", "during-2"):
        Chat.objects.create(flow=flow, identifier=identifier, status=Chat.Status.COMPLETED)
    run_worker()
    assert Delivery.objects.filter(status=Delivery.Status.FAILED).count() == 2
    receiver.clear()
    receiver.expect_request("/hook", method="POST").respond_with_data("ok")  # back up
    Webhook.objects.filter(pk=webhook.pk).update(breaker_open_until=None)

    log_in(page, live_server)
    page.goto(f"{live_server.url}/integrations/webhook/{webhook.pk}/")
    page.get_by_role("button", name="Count what would be resent").click()
    expect(page.locator("#recover-count")).to_contain_text("2 notifications")
    screenshot("integrations-recover")
    page.get_by_role("button", name="Resend 2 notifications").click()
    expect(page.get_by_text("Resending 2 notifications that failed since")).to_be_visible()
    run_worker()
    assert sorted(json.loads(r.get_data())["data"]["identifier"] for r, _ in receiver.log) == ["during-1", "during-2"]

    old = webhook.secret
    page.get_by_role("link", name="Rotate secret…").click()
    page.get_by_label("The current secret keeps signing for").select_option(label="1 hour")
    page.get_by_role("button", name="Rotate secret").click()
    expect(page.get_by_text("New signing secret created")).to_be_visible()
    webhook.refresh_from_db()
    assert webhook.secret != old
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_text("Reveal secret").click()
    expect(page.locator("#webhook-secret")).to_have_text(webhook.secret)
    copy = page.locator('button[data-copy="#webhook-secret"]')
    expect(copy).to_have_text("Copy secret")
    copy.click()
    expect(page.locator("#integrations-announce")).to_have_text("Copied")
    expect(copy).to_have_text("Copied ✓")  # seen where the click was
    expect(copy).to_have_text("Copy secret", timeout=5_000)  # and back after a moment
    assert page.evaluate("navigator.clipboard.readText()") == webhook.secret


@pytest.mark.django_db(transaction=True)
def test_the_pages_fit_a_390_pixel_wide_screen(
    browser: Any,
    live_server: Any,
    admin_user: Any,
    webhook: Webhook,
    flow: Flow,
    run_worker: Callable[[], None],
    screenshot_dir: Any,
) -> None:
    Chat.objects.create(flow=flow, identifier="a-rather-long-identifier@example.com", status=Chat.Status.COMPLETED)
    run_worker()
    context = browser.new_context(viewport={"width": 390, "height": 844})
    phone = context.new_page()
    log_in(phone, live_server)
    delivery = Delivery.objects.get()
    for path in (
        "/integrations/webhook/",
        f"/integrations/webhook/{webhook.pk}/",
        "/integrations/webhook/deliveries/",
        f"/integrations/webhook/deliveries/{delivery.pk}/",
        "/integrations/webhook/events/",
        "/integrations/api-keys/",
        "/",
        f"/flows/{flow.pk}/",
        f"/chats/{Chat.objects.get().pk}/",
    ):
        phone.goto(f"{live_server.url}{path}")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)  # tables scroll inside their cards; the page never does
    phone.goto(f"{live_server.url}/integrations/webhook/{webhook.pk}/")
    if screenshot_dir:
        phone.screenshot(path=str(screenshot_dir / "integrations-endpoint-390px.png"), full_page=False)
    context.close()


def test_admin_creates_an_api_key_that_works_once_copied_and_revokes_it(
    page: Page, live_server: Any, admin_user: Any, account: Any, screenshot: Callable[[str], None]
) -> None:
    log_in(page, live_server)
    page.goto(f"{live_server.url}/integrations/")
    page.get_by_role("navigation", name="Integrations").get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("CRM sync")
    page.get_by_label("Expires").select_option(label="In 90 days")
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#new-api-key").inner_text()
    page.get_by_role("button", name="Copy key").click()  # the one-time key has its own Copy button
    expect(page.get_by_role("button", name="Copied ✓")).to_be_visible()
    expect(page.get_by_role("cell", name="CRM sync", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="ada", exact=True)).to_be_visible()  # who created it
    screenshot("integrations-api-keys")
    answer = page.request.get(f"{live_server.url}/api/v1/flows/", headers={"Authorization": f"Api-Key {key}"})
    assert answer.status == 200
    page.get_by_role("link", name="Revoke the key CRM sync…").click()
    # It asks first, naming the key and when it was last used (just now, by the request above).
    expect(page.get_by_role("heading", name=re.compile("Revoke the key “CRM sync”"))).to_be_visible()
    expect(page.get_by_text("It was last used on")).to_be_visible()
    answer = page.request.get(f"{live_server.url}/api/v1/flows/", headers={"Authorization": f"Api-Key {key}"})
    assert answer.status == 200  # asking changed nothing
    page.get_by_role("button", name="Revoke key").click()
    expect(page.get_by_text("API key “CRM sync” revoked")).to_be_visible()
    answer = page.request.get(f"{live_server.url}/api/v1/flows/", headers={"Authorization": f"Api-Key {key}"})
    assert answer.status == 401
