"""An admin finds the Webhook tab as the spec says (avatar → Integrations → Webhook) and saves a URL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from integrations.models import Webhook


def log_in(page: Page, live_server: Any) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()


def test_admin_sets_the_webhook_url_through_the_avatar_menu(
    page: Page, live_server: Any, admin_user: Any, account: Any, screenshot: Callable[[str], None]
) -> None:
    log_in(page, live_server)
    page.get_by_label("Account menu").click()
    page.get_by_role("link", name="Integrations").click()
    page.get_by_role("navigation", name="Integrations").get_by_role("link", name="Webhook").click()
    expect(page.get_by_role("heading", name="Webhook")).to_be_visible()

    url_field = page.get_by_label("Webhook URL")
    url_field.fill("example.com/hooks")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("starts with http:// or https://")).to_be_visible()
    assert not Webhook.objects.exists()

    page.get_by_label("Webhook URL").fill("http://127.0.0.1:9000/hooks")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Webhook URL saved")).to_be_visible()
    webhook = Webhook.objects.get(account=account)
    assert webhook.url == "http://127.0.0.1:9000/hooks"
    expect(page.locator("#webhook-secret")).to_have_text(webhook.secret)
    expect(page.get_by_label("Webhook URL")).to_have_value("http://127.0.0.1:9000/hooks")
    screenshot("integrations-webhook")


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
    expect(page.get_by_role("cell", name="CRM sync", exact=True)).to_be_visible()
    screenshot("integrations-api-keys")
    answer = page.request.get(f"{live_server.url}/api/v1/flows/", headers={"Authorization": f"Api-Key {key}"})
    assert answer.status == 200
    page.get_by_role("button", name="Revoke the key CRM sync").click()
    expect(page.get_by_text("API key revoked")).to_be_visible()
    answer = page.request.get(f"{live_server.url}/api/v1/flows/", headers={"Authorization": f"Api-Key {key}"})
    assert answer.status == 401
