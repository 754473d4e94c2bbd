"""Which addresses a webhook may point at (the full hostile-URL table comes with the SSRF guard)."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from integrations.destinations import DestinationRefused, address_is_public, check_host


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "2002:7f00:1::",  # 6to4 around 127.0.0.1
    ],
)
def test_private_and_reserved_addresses_are_not_public(address: str) -> None:
    assert not address_is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_public(address: str) -> None:
    assert address_is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("host", ["127.0.0.1", "2130706433", "0x7f.1", "127.1", "localhost"])
def test_loopback_in_any_spelling_is_refused(host: str, settings: Any) -> None:
    settings.INTEGRATIONS_ALLOW_PRIVATE_URLS = False
    with pytest.raises(DestinationRefused, match="private or reserved"):
        check_host(host)


def test_private_addresses_pass_when_allowed_for_development(settings: Any) -> None:
    settings.INTEGRATIONS_ALLOW_PRIVATE_URLS = True
    assert ipaddress.ip_address("127.0.0.1") in check_host("127.0.0.1")


def test_a_host_that_does_not_resolve_is_refused_clearly() -> None:
    with pytest.raises(DestinationRefused, match="could not be found"):
        check_host("no-such-host.invalid")
