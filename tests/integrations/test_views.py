"""The home page's avatar menu and the Integrations page's Webhook tab."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Account, Membership
from integrations.models import Webhook

WEBHOOK_TAB = reverse("integrations:webhook")


@pytest.fixture
def admin_client(client: Client, admin_user: Any) -> Client:
    client.force_login(admin_user)
    return client


def test_signed_out_visitors_are_sent_to_the_login_page(client: Client, db: None) -> None:
    for url in (reverse("home"), WEBHOOK_TAB):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_login_page_logs_in_and_lands_on_home(client: Client, admin_user: Any) -> None:
    response = client.post(reverse("login"), {"username": "ada", "password": "correct horse battery"})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_home_shows_the_account_avatar_with_the_integrations_link(admin_client: Client, flow: Any) -> None:
    page = admin_client.get(reverse("home")).content.decode()
    assert 'class="avatar"' in page
    assert ">AL<" in page  # Acme Learning
    assert f'href="{WEBHOOK_TAB}">Integrations<' in page
    assert "Onboarding quiz" in page


def test_integrations_index_opens_the_webhook_tab(admin_client: Client) -> None:
    response = admin_client.get(reverse("integrations:index"))
    assert response.status_code == 302
    assert response["Location"] == WEBHOOK_TAB


def test_webhook_tab_shows_the_left_panel_and_an_empty_url_field(admin_client: Client) -> None:
    response = admin_client.get(WEBHOOK_TAB)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'aria-current="page">Webhook</a>' in page
    assert 'name="url"' in page
    assert ">Save</button>" in page
    assert "whsec_" not in page  # no webhook yet, no secret


def test_saving_a_url_creates_the_webhook_and_shows_its_secret(admin_client: Client, account: Account) -> None:
    response = admin_client.post(WEBHOOK_TAB, {"url": "http://127.0.0.1:9000/hooks"}, follow=True)
    assert response.status_code == 200
    webhook = Webhook.objects.get(account=account)
    assert webhook.url == "http://127.0.0.1:9000/hooks"
    assert webhook.secret.startswith("whsec_")
    page = response.content.decode()
    assert "Webhook URL saved" in page
    assert 'value="http://127.0.0.1:9000/hooks"' in page
    assert webhook.secret in page


def test_saving_again_changes_the_url_and_keeps_the_secret(admin_client: Client, account: Account) -> None:
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9000/old")
    admin_client.post(WEBHOOK_TAB, {"url": "https://127.0.0.1/new"})
    webhook.refresh_from_db()
    assert webhook.url == "https://127.0.0.1/new"
    assert Webhook.objects.filter(account=account).count() == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://127.0.0.1/hooks", "http:// or https://"),
        ("127.0.0.1/hooks", "http:// or https://"),
        ("javascript:alert(1)", "http:// or https://"),
        ("http:///path-only", "with a host name"),
        ("https://", "with a host name"),
        ("http://127.0.0.1/" + "a" * 2000, "at most 2000 characters"),
        ("http://127.0.0.1/with space", "whitespace"),
        (" http://127.0.0.1/", "whitespace"),
        ("http://127.0.0.1/\ttab", "whitespace"),
        ("http://user:pw@127.0.0.1/", "user name or password"),
        ("http://127.0.0.1:99999/", "valid URL"),
        ("", "This field is required"),
    ],
)
def test_bad_urls_get_a_field_error_and_change_nothing(
    admin_client: Client, account: Account, url: str, message: str
) -> None:
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9000/kept")
    response = admin_client.post(WEBHOOK_TAB, {"url": url})
    assert response.status_code == 400
    assert message in response.content.decode()
    webhook.refresh_from_db()
    assert webhook.url == "http://127.0.0.1:9000/kept"
    assert Webhook.objects.count() == 1


def test_private_addresses_are_refused_unless_allowed(admin_client: Client, settings: Any) -> None:
    settings.INTEGRATIONS_ALLOW_PRIVATE_URLS = False
    for url in ("http://127.0.0.1/", "http://10.1.2.3/", "http://169.254.169.254/latest/", "http://[::1]/"):
        response = admin_client.post(WEBHOOK_TAB, {"url": url})
        assert response.status_code == 400
        assert "private or reserved network" in response.content.decode()
    assert not Webhook.objects.exists()


def test_members_who_are_not_admins_get_a_404(client: Client, account: Account, django_user_model: Any) -> None:
    member = django_user_model.objects.create_user(username="mo", password="pw-long-enough")
    Membership.objects.create(account=account, user=member, role=Membership.Role.MEMBER)
    client.force_login(member)
    assert client.get(WEBHOOK_TAB).status_code == 404
    assert client.post(WEBHOOK_TAB, {"url": "http://127.0.0.1/"}).status_code == 404
    assert not Webhook.objects.exists()


def test_users_without_an_account_get_a_404(client: Client, django_user_model: Any) -> None:
    client.force_login(django_user_model.objects.create_user(username="loner", password="pw-long-enough"))
    assert client.get(WEBHOOK_TAB).status_code == 404
    assert client.get(reverse("home")).status_code == 200


def test_an_admin_only_ever_sees_their_own_accounts_webhook(admin_client: Client, account: Account) -> None:
    other = Account.objects.create(name="Other Co")
    theirs = Webhook.objects.create(account=other, url="http://127.0.0.1:9000/theirs")
    page = admin_client.get(WEBHOOK_TAB).content.decode()
    assert theirs.url not in page
    assert theirs.secret not in page
    admin_client.post(WEBHOOK_TAB, {"url": "http://127.0.0.1:9000/mine"})
    theirs.refresh_from_db()
    assert theirs.url == "http://127.0.0.1:9000/theirs"


def test_the_form_needs_a_csrf_token(admin_user: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)
    assert client.post(WEBHOOK_TAB, {"url": "http://127.0.0.1/"}).status_code == 403
    assert not Webhook.objects.exists()


def test_other_methods_are_refused(admin_client: Client) -> None:
    assert admin_client.delete(WEBHOOK_TAB).status_code == 405


def disabled_webhook(account: Account) -> Webhook:
    from datetime import timedelta

    from django.utils import timezone

    from integrations.health import webhook_disable

    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9000/dead")
    webhook.failing_since = timezone.now() - timedelta(days=5)
    webhook.consecutive_failures = 80
    webhook.save()
    webhook_disable(webhook=webhook, reason="Every delivery attempt failed for 5 days.")
    return webhook


def test_a_disabled_webhook_shows_a_banner_offering_to_resend(
    admin_client: Client, account: Account, flow: Any
) -> None:
    from chats.models import Chat
    from integrations.models import Delivery

    webhook = disabled_webhook(account)
    for identifier in ("x", "y"):  # completed while the webhook is disabled
        Chat.objects.create(flow=flow, identifier=identifier, status=Chat.Status.COMPLETED)

    page = admin_client.get(WEBHOOK_TAB).content.decode()
    assert 'role="alert"' in page
    assert "Every delivery attempt failed for 5 days." in page
    assert "Re-enable and resend the 2 notifications that failed since" in page

    response = admin_client.post(reverse("integrations:webhook_enable"), {"resend": "1"}, follow=True)
    assert "Resending 2 notifications that failed meanwhile." in response.content.decode()
    webhook.refresh_from_db()
    assert webhook.is_active
    assert set(Delivery.objects.filter(webhook=webhook).values_list("status", flat=True)) == {"pending"}
    assert 'role="alert"' not in response.content.decode()


def test_re_enabling_without_resending(admin_client: Client, account: Account) -> None:
    webhook = disabled_webhook(account)
    page = admin_client.get(WEBHOOK_TAB).content.decode()
    assert ">Re-enable</button>" in page  # nothing failed meanwhile: nothing to offer
    response = admin_client.post(reverse("integrations:webhook_enable"), {"resend": "0"}, follow=True)
    assert "Webhook re-enabled." in response.content.decode()
    webhook.refresh_from_db()
    assert webhook.is_active


def test_enabling_needs_an_admin_a_webhook_and_a_post(
    client: Client, admin_client: Client, account: Account, django_user_model: Any
) -> None:
    enable = reverse("integrations:webhook_enable")
    assert admin_client.get(enable).status_code == 405
    assert admin_client.post(enable).status_code == 404  # no webhook yet
    Webhook.objects.create(account=account, url="http://127.0.0.1:9000/x")
    response = admin_client.post(enable, follow=True)
    assert "already enabled" in response.content.decode()
    member = django_user_model.objects.create_user(username="mo", password="pw-long-enough")
    Membership.objects.create(account=account, user=member, role=Membership.Role.MEMBER)
    client.force_login(member)
    assert client.post(enable).status_code == 404


def test_the_health_line_tells_failures_and_the_breaker(admin_client: Client, account: Account) -> None:
    from datetime import timedelta

    from django.utils import timezone

    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9000/x")
    assert "Active" in admin_client.get(WEBHOOK_TAB).content.decode()
    Webhook.objects.filter(pk=webhook.pk).update(consecutive_failures=2, failing_since=timezone.now())
    assert "2 failed attempts in a row since" in admin_client.get(WEBHOOK_TAB).content.decode()
    Webhook.objects.filter(pk=webhook.pk).update(
        consecutive_failures=5, breaker_open_until=timezone.now() + timedelta(minutes=1)
    )
    assert "deliveries wait until" in admin_client.get(WEBHOOK_TAB).content.decode()


def test_the_pages_extend_the_apps_own_base_template_unless_told_otherwise(
    admin_client: Client, settings: Any, webhook: Webhook
) -> None:
    settings.INTEGRATIONS_BASE_TEMPLATE = "integrations/base.html"
    settings.INTEGRATIONS_PRODUCT_NAME = "Acme Forms"
    settings.INTEGRATIONS_SECRET_OVERLAP_HOURS = 48
    settings.INTEGRATIONS_ACTION_RATE = "10/h"
    for url in (WEBHOOK_TAB, reverse("integrations:deliveries")):
        page = admin_client.get(url).content.decode()
        assert '<main class="integrations-page">' in page
        assert 'class="avatar"' not in page  # not DialogForm's layout
        assert "/static/integrations/integrations.css" in page
    page = admin_client.get(WEBHOOK_TAB).content.decode()
    # Every figure the page shows comes from settings.
    assert "Acme Forms will send notifications" in page
    assert "keeps working for 48 hours" in page
    assert "At most 10 per hour" in page
