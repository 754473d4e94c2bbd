"""Which hosts a webhook may point at: no request into the server's own network."""

from __future__ import annotations

import ipaddress
import socket

from .conf import conf

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class DestinationRefused(Exception):
    """The host may not receive webhooks; the message says why, for the admin to read."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def address_is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None and not address_is_public(embedded):
            return False
    return address.is_global and not address.is_multicast


def resolve(host: str) -> list[IPAddress]:
    """Every address the host name (or IP literal) stands for; refuses names that do not resolve."""
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as error:
        raise DestinationRefused(f"The host {host!r} could not be found.") from error
    # Strip an IPv6 zone ("fe80::1%eth0") before parsing.
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def check_host(host: str) -> list[IPAddress]:
    """The vetted addresses of a host, or DestinationRefused when any of them is not public."""
    addresses = resolve(host)
    if not conf.ALLOW_PRIVATE_URLS:
        for address in addresses:
            if not address_is_public(address):
                raise DestinationRefused(
                    f"The host {host!r} points into a private or reserved network ({address}); "
                    "webhooks can only go to public addresses."
                )
    return addresses
