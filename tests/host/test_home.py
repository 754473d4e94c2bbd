"""DialogForm's home page and login: the avatar menu leads to the Integrations page; failed logins lock out."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

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
    assert 'href="#main"' in page and 'id="main"' in page  # the skip link has somewhere to go


def test_the_avatar_menu_switches_between_accounts(admin_client: Client, admin_user: Any) -> None:
    from accounts.models import Account, Membership

    other = Account.objects.create(name="Beta Labs")
    Membership.objects.create(account=other, user=admin_user, role=Membership.Role.ADMIN)
    home = admin_client.get(reverse("home")).content.decode()
    assert "Switch account" in home and ">Beta Labs</button>" in home  # in the avatar menu


def test_five_failed_logins_lock_the_username_out(client: Client, admin_user: Any) -> None:
    login = reverse("login")
    for _ in range(4):
        response = client.post(login, {"username": "ada", "password": "wrong"})
        assert response.status_code == 200  # the form again, with its error
    assert client.post(login, {"username": "ada", "password": "wrong"}).status_code == 429  # the fifth
    locked = client.post(login, {"username": "ada", "password": "correct horse battery"})
    assert locked.status_code == 429
    assert locked["Retry-After"] == "900"  # the cool-off, 15 minutes
    assert "Too many failed log-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
