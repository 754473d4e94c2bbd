"""Every page of the app and of the host, in Chromium at 1280 and 390 pixels wide: no serious or critical
accessibility violation (axe-core, run from the copy axe-playwright-python ships: never a CDN), the
Django admin's and the API documentation's included; and no product page wider than the screen."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser

from chats.models import Chat, Feedback, Flow, Response
from integrations.contrib.api.keys import api_key_create
from integrations.models import Delivery, Webhook
from integrations.webhooks import webhook_rotate_secret

SERIOUS = {"serious", "critical"}
UNREACHABLE_SCROLL_BOXES = (
    "[...document.querySelectorAll('.integrations-scroll, .table-scroll')].filter(box => box.tabIndex < 0).length"
)
# The text of the table cells shown that end past the screen's right edge (off to the side of a scroll box).
CELLS_BEYOND = """width => [...document.querySelectorAll("td")]
  .filter(cell => cell.getClientRects().length && cell.getBoundingClientRect().right > width + 1)
  .map(cell => cell.innerText.trim().slice(0, 40))"""


def every_page(flow: Flow, webhook: Webhook, account: Any, admin_user: Any) -> list[str]:
    chat = Chat.objects.get(identifier="a-rather-long-identifier@example.com")
    delivery = Delivery.objects.filter(webhook=webhook).first()
    assert delivery is not None
    retired = webhook_rotate_secret(webhook=webhook).replaced
    assert retired is not None
    api_key = api_key_create(account_id=account.pk, name="CRM sync", created_by=admin_user)[0]
    endpoint = f"/integrations/webhook/{webhook.pk}"
    return [
        "/",
        f"/flows/{flow.pk}/",
        f"/chats/{chat.pk}/",
        f"/chats/{chat.pk}/delete/",
        f"/c/{flow.share_token}/?identifier=walk-in",
        "/integrations/webhook/",
        f"{endpoint}/",
        f"{endpoint}/rotate-secret/",
        f"{endpoint}/previous-secrets/{retired.prefix}/end/",
        f"{endpoint}/delete/",
        f"{endpoint}/recover/?since=2000-01-01T00%3A00",
        "/integrations/webhook/deliveries/",
        f"/integrations/webhook/deliveries/{delivery.pk}/",
        "/integrations/webhook/events/",
        "/integrations/api-keys/",
        f"/integrations/api-keys/{api_key.prefix}/revoke/",
        "/api/docs/",
        "/admin/",
        "/admin/integrations/webhook/",
        "/admin/integrations/delivery/",
        f"/admin/integrations/delivery/{delivery.pk}/change/",
    ]


def violations(page: Any) -> list[str]:
    found = Axe().run(page).response["violations"]
    return [
        f"{item['id']} ({item['impact']}): {item['help']} at "
        + "; ".join(f"{node['target']}: {node['failureSummary']}" for node in item["nodes"][:3])
        for item in found
        if item["impact"] in SERIOUS
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 390])
def test_every_page_is_accessible_and_fits_the_screen(
    browser: Browser,
    live_server: Any,
    admin_user: Any,
    account: Any,
    webhook: Webhook,
    flow: Flow,
    run_worker: Callable[[], None],
    width: int,
) -> None:
    chat = Chat.objects.create(
        flow=flow, identifier="a-rather-long-identifier@example.com", status=Chat.Status.COMPLETED, score=2
    )
    response = Response.objects.create(chat=chat, prompt=flow.prompts.first(), answer="Paris")
    Feedback.objects.create(response=response, text="Well done")
    run_worker()
    admin_user.is_staff = admin_user.is_superuser = True  # the Django admin's pages too
    admin_user.save()
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    # Signed out: the login page, a participant's chat to its end screen, and the locked-out page.
    page.goto(f"{live_server.url}/login/")
    problems = {"/login/": violations(page)}
    page.goto(f"{live_server.url}/c/{flow.share_token}/?identifier=finisher")
    for answer in ("Paris", "Blue"):
        page.get_by_placeholder("Type your answer").fill(answer)
        page.get_by_role("button", name="Send").click()
    page.locator("#end-screen").wait_for()
    problems["participant's end screen"] = violations(page)
    for _ in range(5):
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill("someone-else")
        page.get_by_label("Password").fill("wrong")
        page.get_by_role("button", name="Log in").click()
    page.get_by_text("Too many failed log-ins").first.wait_for()
    problems["locked out"] = violations(page)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    too_wide, hidden_cells = {}, {}
    for path in every_page(flow, webhook, account, admin_user):
        answer = page.goto(f"{live_server.url}{path}")
        assert answer is not None and answer.status == 200, path
        if path == "/api/docs/":
            page.get_by_role("heading", name="DialogForm details API").first.wait_for()  # drawn by its script
        problems[path] = violations(page)
        if page.locator("#delivery-body").count():
            # Long JSON and URLs wrap where they must, not at every character.
            assert page.evaluate("getComputedStyle(document.querySelector('#delivery-body')).wordBreak") != "break-all"
        if path.startswith("/admin/"):
            continue  # Django's staff pages: their change lists scroll sideways by design
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            too_wide[path] = scroll_width
        # Every column of every table in view: rows become cards on a phone rather than scroll sideways.
        # A box that may scroll sideways can be reached and scrolled with the keyboard.
        unreachable = page.evaluate(UNREACHABLE_SCROLL_BOXES)
        if unreachable:
            hidden_cells[path] = [f"{unreachable} scroll boxes the keyboard cannot reach"]
        beyond = page.evaluate(CELLS_BEYOND, width)
        if beyond:
            hidden_cells.setdefault(path, []).extend(beyond)
    context.close()
    assert {path: found for path, found in problems.items() if found} == {}
    # The page never scrolls sideways, and no column of a list hides off to the side.
    assert {"pages too wide": too_wide, "cells past the edge": hidden_cells} == {
        "pages too wide": {},
        "cells past the edge": {},
    }
