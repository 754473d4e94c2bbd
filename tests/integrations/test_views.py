"""The Webhook tab (several endpoints) and each endpoint's page: every action, as admins and others."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.adapter import subscribable_names
from integrations.health import webhook_disable
from integrations.models import Delivery, Webhook
from tests.helpers import endpoint_form
from tests.testhost.models import Team, Ticket
from tests.testhost.objects import close

WEBHOOK_TAB = reverse("integrations:webhook")


def endpoint_url(webhook: Webhook, name: str = "endpoint") -> str:
    return reverse(f"integrations:{name}", args=[webhook.pk])


@pytest.fixture
def admin_client(client: Client, admin_user: Any) -> Client:
    client.force_login(admin_user)
    return client


def test_integrations_index_opens_the_webhook_tab(admin_client: Client) -> None:
    response = admin_client.get(reverse("integrations:index"))
    assert response.status_code == 302
    assert response["Location"] == WEBHOOK_TAB


def test_the_webhook_tab_lists_no_endpoint_yet_and_offers_the_add_form(admin_client: Client, account: Team) -> None:
    response = admin_client.get(WEBHOOK_TAB)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'aria-current="page">Webhook' in page
    assert "Account: <strong" in page and account.name in page
    assert 'name="url"' in page
    assert ">Add endpoint</button>" in page
    for event_type in subscribable_names():
        assert f'value="{event_type}"' in page
    assert "whsec_" not in page  # no endpoint yet, no secret


def test_every_described_field_points_at_a_help_text_that_exists(admin_client: Client, webhook: Webhook) -> None:
    import re

    for url in (WEBHOOK_TAB, endpoint_url(webhook), endpoint_url(webhook, "endpoint_rotate_secret")):
        page = admin_client.get(url).content.decode()
        for described in re.findall(r'aria-describedby="([^"]+)"', page):
            for target in described.split():
                assert f'id="{target}"' in page, (url, target)


def test_adding_an_endpoint_creates_it_with_a_secret_and_opens_its_page(admin_client: Client, account: Team) -> None:
    response = admin_client.post(
        WEBHOOK_TAB, endpoint_form("  http://127.0.0.1:9000/hooks  ", description="CRM"), follow=True
    )
    assert response.status_code == 200
    webhook = Webhook.objects.get(account=account)
    assert webhook.url == "http://127.0.0.1:9000/hooks"  # the spaces around a pasted URL are trimmed
    assert webhook.description == "CRM"
    assert webhook.event_types == []  # every box ticked: every type, also those added later
    assert webhook.secret.startswith("whsec_")
    page = response.content.decode()
    assert "Endpoint added" in page
    assert 'role="status"' in page
    assert webhook.secret in page  # inside "Reveal secret"
    assert 'data-copy="#webhook-secret"' in page


def test_an_account_has_several_endpoints_each_with_its_own_events(admin_client: Client, account: Team) -> None:
    admin_client.post(WEBHOOK_TAB, endpoint_form("http://127.0.0.1:9000/crm", event_types=["ticket.closed"]))
    admin_client.post(
        WEBHOOK_TAB, endpoint_form("http://127.0.0.1:9000/ops", event_types=["ticket.deleted", "note.changed"])
    )
    crm, ops = Webhook.objects.filter(account=account).order_by("id")
    assert crm.event_types == ["ticket.closed"]
    assert ops.event_types == ["ticket.deleted", "note.changed"]
    assert crm.secret != ops.secret
    page = admin_client.get(WEBHOOK_TAB).content.decode()
    assert "http://127.0.0.1:9000/crm" in page and "http://127.0.0.1:9000/ops" in page
    assert "ticket.deleted, note.changed" in page


def test_an_endpoint_needs_at_least_one_event(admin_client: Client) -> None:
    response = admin_client.post(WEBHOOK_TAB, endpoint_form("http://127.0.0.1:9000/x", event_types=[]))
    assert response.status_code == 400
    assert "Choose at least one event" in response.content.decode()
    assert not Webhook.objects.exists()


def test_the_endpoint_limit_is_a_clear_message(admin_client: Client, account: Team, settings: Any) -> None:
    settings.INTEGRATIONS_ENDPOINTS_MAX = 2
    for path in ("a", "b"):
        Webhook.objects.create(account=account, url=f"http://127.0.0.1:9000/{path}")
    response = admin_client.post(WEBHOOK_TAB, endpoint_form("http://127.0.0.1:9000/c"))
    assert response.status_code == 400
    assert "at most 2 endpoints" in response.content.decode()
    assert Webhook.objects.count() == 2
    assert "the most it can have" in admin_client.get(WEBHOOK_TAB).content.decode()


def test_saving_an_endpoint_changes_it_and_keeps_its_secret(admin_client: Client, account: Team) -> None:
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9000/old")
    secret = webhook.secret
    response = admin_client.post(
        endpoint_url(webhook), endpoint_form("https://127.0.0.1/new", event_types=["ticket.deleted"], max_rate="5")
    )
    assert response.status_code == 302
    webhook.refresh_from_db()
    assert (webhook.url, webhook.event_types, webhook.max_rate, webhook.secret) == (
        "https://127.0.0.1/new",
        ["ticket.deleted"],
        5,
        secret,
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://127.0.0.1/hooks", "Only http:// and https:// URLs are allowed (ftp:// is not)"),
        ("127.0.0.1/hooks", "Did you mean https://127.0.0.1/hooks?"),
        ("htps://127.0.0.1/hooks", "Did you mean https://127.0.0.1/hooks?"),
        ("https//127.0.0.1/hooks", "Did you mean https://127.0.0.1/hooks?"),
        ("javascript:alert(1)", "Only http:// and https:// URLs are allowed"),
        ("http:///path-only", "with a host name"),
        ("https://", "with a host name"),
        ("http://127.0.0.1/" + "a" * 2000, "at most 2000 characters"),
        ("http://127.0.0.1/with space", "whitespace"),
        ("http://127.0.0.1/\ttab", "whitespace"),
        ("http://user:pw@127.0.0.1/", "user name or password"),
        ("http://127.0.0.1:99999/", "valid URL"),
        ("", "This field is required"),
    ],
)
def test_bad_urls_get_a_field_error_focus_and_change_nothing(
    admin_client: Client, account: Team, url: str, message: str
) -> None:
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9000/kept")
    for target in (WEBHOOK_TAB, endpoint_url(webhook)):
        response = admin_client.post(target, endpoint_form(url))
        assert response.status_code == 400
        page = response.content.decode()
        assert message in page
        assert 'aria-invalid="true"' in page and "autofocus" in page  # the focus is on the field in error
    webhook.refresh_from_db()
    assert webhook.url == "http://127.0.0.1:9000/kept"
    assert Webhook.objects.count() == 1


def test_private_addresses_are_refused_unless_allowed(admin_client: Client, settings: Any) -> None:
    settings.INTEGRATIONS_ALLOW_PRIVATE_URLS = False
    for url in ("http://127.0.0.1/", "http://10.1.2.3/", "http://169.254.169.254/latest/", "http://[::1]/"):
        response = admin_client.post(WEBHOOK_TAB, endpoint_form(url))
        assert response.status_code == 400
        assert "private or reserved network" in response.content.decode()
    assert not Webhook.objects.exists()


def test_custom_headers_are_saved_shown_masked_kept_and_removed(admin_client: Client, account: Team) -> None:
    admin_client.post(
        WEBHOOK_TAB, endpoint_form("http://127.0.0.1:9000/x", custom_headers="Authorization: Bearer s3cr3t-token")
    )
    webhook = Webhook.objects.get()
    assert webhook.custom_headers == [{"name": "Authorization", "value": "Bearer s3cr3t-token"}]
    page = admin_client.get(endpoint_url(webhook)).content.decode()
    assert "Authorization: ••••••••" in page
    assert "s3cr3t" not in page and "Bearer s3" not in page
    admin_client.post(endpoint_url(webhook), endpoint_form("http://127.0.0.1:9000/y"))  # left empty: kept
    webhook.refresh_from_db()
    assert webhook.custom_headers == [{"name": "Authorization", "value": "Bearer s3cr3t-token"}]
    admin_client.post(endpoint_url(webhook), endpoint_form("http://127.0.0.1:9000/y", clear_custom_headers="on"))
    webhook.refresh_from_db()
    assert webhook.custom_headers == []


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ("webhook-signature: v1,forged", "is set by us"),
        ("Content-Type: text/plain", "is set by us"),
        ("Host: evil.example", "is set by us"),
        ("Transfer-Encoding: chunked", "is set by us"),
        ("X-Token: a\u0000b", "Null characters are not allowed"),  # no database stores NUL
        ("X-Token: a\u0007b", "visible ASCII"),
        ("X-Token: caf\u00e9", "visible ASCII"),
        ("Bad Name: x", "A header name is"),
        ("no colon here", "write “Name: value”"),
        ("\n".join(f"X-H{n}: v" for n in range(6)), "At most 5 custom headers"),
        ("X-A: 1\nx-a: 2", "can appear once"),
        ("X-Empty:", "must be 1 to 1000 characters"),
    ],
)
def test_custom_headers_that_cannot_be_sent_are_refused(
    admin_client: Client, account: Team, headers: str, message: str
) -> None:
    response = admin_client.post(WEBHOOK_TAB, endpoint_form("http://127.0.0.1:9000/x", custom_headers=headers))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("rate", ["0", "-1", "1001", "1.5", "٣"])
def test_a_maximum_rate_out_of_bounds_is_refused(admin_client: Client, rate: str) -> None:
    response = admin_client.post(WEBHOOK_TAB, endpoint_form("http://127.0.0.1:9000/x", max_rate=rate))
    assert response.status_code == 400
    assert not Webhook.objects.exists()


def test_members_who_are_not_admins_get_a_404(client: Client, account: Team, django_user_model: Any) -> None:
    member = django_user_model.objects.create_user(username="mo", password="pw-long-enough")
    account.members.add(member)
    client.force_login(member)
    assert client.get(WEBHOOK_TAB).status_code == 404
    assert client.post(WEBHOOK_TAB, endpoint_form("http://127.0.0.1/")).status_code == 404
    assert not Webhook.objects.exists()


def test_users_without_an_account_get_a_404(client: Client, django_user_model: Any) -> None:
    client.force_login(django_user_model.objects.create_user(username="loner", password="pw-long-enough"))
    assert client.get(WEBHOOK_TAB).status_code == 404


def test_another_accounts_endpoint_is_a_404_and_stays_unchanged(admin_client: Client, account: Team) -> None:
    other = Team.objects.create(name="Other Co")
    theirs = Webhook.objects.create(account=other, url="http://127.0.0.1:9000/theirs")
    page = admin_client.get(WEBHOOK_TAB).content.decode()
    assert theirs.url not in page
    assert admin_client.get(endpoint_url(theirs)).status_code == 404
    assert admin_client.post(endpoint_url(theirs), endpoint_form("http://127.0.0.1:9000/mine")).status_code == 404
    theirs.refresh_from_db()
    assert theirs.url == "http://127.0.0.1:9000/theirs"


def test_the_forms_need_a_csrf_token(admin_user: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(WEBHOOK_TAB, endpoint_form("http://127.0.0.1/")).status_code == 403
    assert not Webhook.objects.exists()


def test_other_methods_are_refused(admin_client: Client, webhook: Webhook) -> None:
    assert admin_client.delete(WEBHOOK_TAB).status_code == 405
    assert admin_client.get(endpoint_url(webhook, "endpoint_send_test")).status_code == 405
    assert admin_client.get(endpoint_url(webhook, "endpoint_enable")).status_code == 405


def disabled_webhook(account: Team) -> Webhook:
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9000/dead")
    webhook.failing_since = timezone.now() - timedelta(days=5)
    webhook.consecutive_failures = 80
    webhook.save()
    webhook_disable(webhook=webhook, reason="Every delivery attempt failed for 5 days.")
    return webhook


def test_a_disabled_endpoint_shows_banners_and_offers_to_resend(admin_client: Client, account: Team) -> None:
    webhook = disabled_webhook(account)
    for identifier in ("x", "y"):  # closed while the endpoint is disabled
        close(Ticket.objects.create(team=account, reference=identifier))

    tab = admin_client.get(WEBHOOK_TAB).content.decode()
    assert 'id="integrations-trouble"' in tab and "Disabled:" in tab  # on every Integrations page
    assert "1 in trouble" in tab  # and a badge on the tab
    page = admin_client.get(endpoint_url(webhook)).content.decode()
    assert "Every delivery attempt failed for 5 days." in page
    assert "Re-enable and resend the 2 notifications that failed since" in page

    response = admin_client.post(endpoint_url(webhook, "endpoint_enable"), {"resend": "1"}, follow=True)
    assert "Resending 2 notifications that failed meanwhile." in response.content.decode()
    webhook.refresh_from_db()
    assert webhook.is_active
    assert set(Delivery.objects.filter(webhook=webhook).values_list("status", flat=True)) == {"pending"}
    assert 'id="integrations-trouble"' not in response.content.decode()


def test_re_enabling_without_resending(admin_client: Client, account: Team) -> None:
    webhook = disabled_webhook(account)
    page = admin_client.get(endpoint_url(webhook)).content.decode()
    assert ">Re-enable</button>" in page  # nothing failed meanwhile: nothing to offer
    response = admin_client.post(endpoint_url(webhook, "endpoint_enable"), {"resend": "0"}, follow=True)
    assert "Endpoint re-enabled." in response.content.decode()
    webhook.refresh_from_db()
    assert webhook.is_active


@pytest.mark.django_db(transaction=True)  # the wake-ups run on commit
def test_pausing_holds_notifications_and_resuming_sends_them(
    admin_client: Client, webhook: Webhook, run_worker: Any, receiver: Any
) -> None:
    admin_client.post(endpoint_url(webhook), endpoint_form(webhook.url, is_active=""))
    webhook.refresh_from_db()
    assert webhook.is_paused
    close(Ticket.objects.create(team=webhook.account, reference="while-paused"))
    run_worker()
    assert len(receiver.log) == 0
    assert Delivery.objects.get(webhook=webhook).status == "pending"
    page = admin_client.get(endpoint_url(webhook)).content.decode()
    assert ">Paused<" in page and ">Resume</button>" in page
    response = admin_client.post(endpoint_url(webhook, "endpoint_enable"), follow=True)
    assert "Endpoint resumed" in response.content.decode()
    run_worker()
    assert len(receiver.log) == 1
    assert b"while-paused" in receiver.log[0][0].data


def test_the_health_badge_tells_failures_and_the_breaker(admin_client: Client, account: Team) -> None:
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9000/x")
    assert 'status-succeeded">Active' in admin_client.get(WEBHOOK_TAB).content.decode()
    Webhook.objects.filter(pk=webhook.pk).update(consecutive_failures=2, failing_since=timezone.now())
    assert "Failing: 2 in a row" in admin_client.get(WEBHOOK_TAB).content.decode()
    assert "2 failed attempts in a row</strong> since" in admin_client.get(endpoint_url(webhook)).content.decode()
    Webhook.objects.filter(pk=webhook.pk).update(
        consecutive_failures=5, breaker_open_until=timezone.now() + timedelta(minutes=1)
    )
    assert "Waiting after failures" in admin_client.get(WEBHOOK_TAB).content.decode()
    assert "deliveries wait until" in admin_client.get(endpoint_url(webhook)).content.decode()


def test_deleting_says_what_happens_to_pending_deliveries(admin_client: Client, webhook: Webhook) -> None:
    close(Ticket.objects.create(team=webhook.account, reference="on-its-way"))
    page = admin_client.get(endpoint_url(webhook, "endpoint_delete")).content.decode()
    assert "1 notification still on its way to it will be cancelled." in page
    assert Webhook.objects.filter(pk=webhook.pk).exists()  # a GET only asks
    response = admin_client.post(endpoint_url(webhook, "endpoint_delete"), follow=True)
    assert "deleted" in response.content.decode()
    assert not Webhook.objects.filter(pk=webhook.pk).exists()
    assert Delivery.objects.get().status == "cancelled"  # kept in the log


def test_the_pages_extend_the_apps_own_base_template_unless_told_otherwise(
    admin_client: Client, settings: Any, webhook: Webhook
) -> None:
    settings.INTEGRATIONS_BASE_TEMPLATE = "integrations/base.html"
    settings.INTEGRATIONS_PRODUCT_NAME = "Acme Forms"
    settings.INTEGRATIONS_SECRET_OVERLAP_HOURS = 48
    settings.INTEGRATIONS_ACTION_RATE = "10/h"
    for url in (WEBHOOK_TAB, reverse("integrations:deliveries"), reverse("integrations:events")):
        page = admin_client.get(url).content.decode()
        assert '<main class="integrations-page">' in page
        assert "/static/integrations/integrations.css" in page
    # Every figure the pages show comes from settings.
    assert "Acme Forms sends notifications" in admin_client.get(WEBHOOK_TAB).content.decode()
    assert "At most 10 per hour" in admin_client.get(endpoint_url(webhook)).content.decode()
    assert 'value="48" selected' in admin_client.get(endpoint_url(webhook, "endpoint_rotate_secret")).content.decode()


def test_an_admin_of_several_accounts_switches_between_them(
    admin_client: Client, admin_user: Any, account: Team
) -> None:
    other = Team.objects.create(name="Beta Labs")
    other.admins.add(admin_user)
    mine = Webhook.objects.create(account=account, url="http://127.0.0.1:9000/acme")
    Webhook.objects.create(account=other, url="http://127.0.0.1:9000/beta")
    page = admin_client.get(WEBHOOK_TAB).content.decode()
    assert "Switch account" in page or ">Beta Labs<" in page  # the pages' own switcher
    assert "/acme" in page and "/beta" not in page
    response = admin_client.post(
        reverse("integrations:account_switch"), {"account": other.pk, "next": endpoint_url(mine)}, follow=True
    )
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == WEBHOOK_TAB  # the old account's endpoint page is not the new one's
    assert "Now showing Beta Labs" in page and "/beta" in page and "/acme" not in page
    assert admin_client.get(endpoint_url(mine)).status_code == 404
    assert "Beta Labs" in admin_client.get(WEBHOOK_TAB).content.decode()
    # Not to an account they do not administer, nor off the site.
    stranger = Team.objects.create(name="Gamma")
    assert admin_client.post(reverse("integrations:account_switch"), {"account": stranger.pk}).status_code == 404
    response = admin_client.post(
        reverse("integrations:account_switch"), {"account": account.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == WEBHOOK_TAB
    log = reverse("integrations:deliveries") + "?status=failed"
    response = admin_client.post(reverse("integrations:account_switch"), {"account": other.pk, "next": log})
    assert response["Location"] == log  # a list page: back to it, now showing the other account


@pytest.mark.django_db(transaction=True)  # the worker sends after commit
def test_after_the_url_is_fixed_what_waits_is_counted_named_and_retried_now(
    admin_client: Client, account: Team, httpserver: Any, run_worker: Any, settings: Any
) -> None:
    """A failing endpoint's URL is corrected: the failing banner goes, the page counts what still waits (and
    where it failed), and one click sends it all now to the new URL, within the action limit."""
    settings.INTEGRATIONS_ALERT_AFTER_FAILURES = 2
    settings.INTEGRATIONS_BREAKER_FAILURES = 2
    httpserver.expect_request("/old", method="POST").respond_with_data("down", status=500)
    httpserver.expect_request("/new", method="POST").respond_with_data("ok")
    old_url, new_url = httpserver.url_for("/old"), httpserver.url_for("/new")
    webhook = Webhook.objects.create(account=account, url=old_url)
    for number in range(3):
        close(Ticket.objects.create(team=account, reference=f"t{number}"))
    run_worker()
    webhook.refresh_from_db()
    assert webhook.state == "waiting" and webhook.failing_alert_at is not None
    tab = admin_client.get(WEBHOOK_TAB).content.decode()
    assert 'id="integrations-trouble"' in tab

    form = endpoint_form(new_url)
    assert admin_client.post(endpoint_url(webhook), form).status_code == 302
    webhook.refresh_from_db()
    assert webhook.state == "active" and webhook.failing_alert_at is None  # the new URL starts afresh
    page = admin_client.get(endpoint_url(webhook)).content.decode()
    assert 'id="integrations-trouble"' not in page  # no "Failing" banner naming the new URL
    waiting = page[page.index('id="waiting"') :]
    assert "3 notifications waiting" in waiting
    assert f'last failed at <code class="integrations-url">{old_url}</code>' in waiting
    assert "Retry them now" in waiting
    recover = admin_client.get(
        reverse("integrations:endpoint_recover", args=[webhook.pk]), {"since": "2000-01-01T00:00"}
    )
    text = recover.content.decode()
    assert "Nothing failed for good since" in text and "What is still waiting is below" in text
    assert "3 notifications waiting" in text

    assert not httpserver.log or all(request.path == "/old" for request, _ in httpserver.log)
    answer = admin_client.post(reverse("integrations:endpoint_retry_now", args=[webhook.pk]), follow=True)
    assert f"Sending 3 waiting notifications now to {new_url}" in answer.content.decode()
    run_worker()
    assert sorted(request.path for request, _ in httpserver.log if request.path == "/new") == ["/new"] * 3
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SUCCEEDED}
    assert 'id="waiting"' not in admin_client.get(endpoint_url(webhook)).content.decode()


def test_retry_now_keeps_the_action_limit(admin_client: Client, webhook: Webhook, settings: Any) -> None:
    from tests.helpers import rate_window_with_room

    settings.INTEGRATIONS_ACTION_RATE = "2/m"
    rate_window_with_room(admin_client.session["_auth_user_id"])
    url = reverse("integrations:endpoint_retry_now", args=[webhook.pk])
    answers = [admin_client.post(url, follow=True).content.decode() for _ in range(3)]
    assert "Nothing is waiting" in answers[0] and "Too many retries" in answers[2]


def test_the_health_charts_have_a_time_axis_and_no_failure_is_not_red(admin_client: Client, webhook: Webhook) -> None:
    from integrations.stats import webhook_charts

    page = admin_client.get(endpoint_url(webhook)).content.decode()
    hours, days = webhook_charts(webhook=webhook)
    axis = page[page.index('class="integrations-axis"') :]
    assert [f"<span>{start:%H:%M}</span>" in axis for start in hours.axis] == [True, True, True]
    assert axis.index(f"<span>{hours.axis[0]:%H:%M}</span>") < axis.index(f"<span>{hours.axis[-1]:%H:%M}</span>")
    assert f"<span>{days.axis[-1].day} {days.axis[-1]:%b}</span>" in page
    assert "<span>0 failed</span>" in page and 'class="legend-bad">0 failed' not in page


def test_every_form_lays_its_fields_out_one_way(admin_client: Client, webhook: Webhook) -> None:
    """Labels without colons, the input, then its help; a group of choices without a grooved frame."""
    import re

    pages = [
        admin_client.get(WEBHOOK_TAB).content.decode(),
        admin_client.get(endpoint_url(webhook, "endpoint_rotate_secret")).content.decode(),
        admin_client.get(reverse("integrations:api_keys")).content.decode(),
    ]
    for page in pages:
        labels = re.findall(r"<label for=\"id_[a-z_]+\">([^<]*)</label>", page)
        assert labels and not [label for label in labels if label.endswith(":")], labels
    tab = pages[0]
    assert tab.index('id="id_url"') < tab.index('id="id_url_helptext"')  # help below the input
    assert '<fieldset class="integrations-fieldset"' in tab
    keys = pages[2]
    assert keys.index('id="id_name"') < keys.index('id="id_name_helptext"')
