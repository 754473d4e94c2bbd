"""Behind the TLS proxy, failed logins are counted by the visitor's address, not the proxy's."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from dialogform_hooks.client_ip import client_ip

PROXY = {"REMOTE_ADDR": "127.0.0.1"}


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ({**PROXY, "HTTP_X_REAL_IP": "203.0.113.5"}, "203.0.113.5"),
        ({**PROXY, "HTTP_X_REAL_IP": " 2001:db8::1 "}, "2001:db8::1"),
        ({"REMOTE_ADDR": "198.51.100.9", "HTTP_X_REAL_IP": "203.0.113.5"}, "198.51.100.9"),  # forged: not the proxy
        ({**PROXY, "HTTP_X_REAL_IP": "203.0.113.5, 10.0.0.1"}, "127.0.0.1"),  # not one address
        ({**PROXY, "HTTP_X_REAL_IP": "٣.٣.٣.٣"}, "127.0.0.1"),
        ({**PROXY, "HTTP_X_REAL_IP": "\x00"}, "127.0.0.1"),
        (PROXY, "127.0.0.1"),
    ],
)
def test_the_visitor_is_whom_the_proxy_names(settings: Any, meta: dict[str, str], expected: str) -> None:
    settings.TRUSTED_PROXIES = ["127.0.0.1", "::1"]
    request = RequestFactory().get("/", **meta)
    assert client_ip(request) == expected


@pytest.mark.django_db
def test_failed_logins_from_one_visitor_do_not_lock_out_another(client: Client, settings: Any, admin_user: Any) -> None:
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    settings.AXES_CLIENT_IP_CALLABLE = "dialogform_hooks.client_ip.client_ip"
    login = reverse("login")
    attacker = {**PROXY, "HTTP_X_REAL_IP": "203.0.113.5"}
    for _ in range(5):
        client.post(login, {"username": "ada", "password": "wrong"}, **attacker)
    assert client.post(login, {"username": "ada", "password": "correct horse battery"}, **attacker).status_code == 429
    ada = {**PROXY, "HTTP_X_REAL_IP": "198.51.100.7"}
    assert client.post(login, {"username": "ada", "password": "correct horse battery"}, **ada).status_code == 302
