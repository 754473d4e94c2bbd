"""The SSRF guard: which hosts a webhook may point at, checked at save time and again at send time."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from .conf import conf

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Never a webhook destination, whatever the Python version's ipaddress tables say.
BLOCKED_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",  # "this network"
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # carrier-grade NAT, often routes to internal workloads
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, cloud metadata (169.254.169.254)
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation
        "192.88.99.0/24",  # 6to4 relay anycast
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation
        "203.0.113.0/24",  # documentation
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and 255.255.255.255 broadcast
        "::/128",  # unspecified
        "::1/128",  # loopback
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001::/23",  # IETF protocol assignments, Teredo (2001::/32) included
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
        "5f00::/16",  # segment routing
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)

# IPv6 forms that carry an IPv4 address: the IPv4 address decides.
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class DestinationRefused(Exception):
    """The host may not receive webhooks; the message says why, in words an admin can act on."""


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:  # ::ffff:a.b.c.d
        return address.ipv4_mapped
    if address in _IPV4_COMPATIBLE or address in _NAT64:  # ::a.b.c.d, 64:ff9b::a.b.c.d
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:  # 2002:aabb:ccdd::
        return address.sixtofour
    return None


def address_is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return address_is_public(embedded)
    if any(address in network for network in BLOCKED_NETWORKS):
        return False
    return address.is_global and not address.is_multicast and not address.is_reserved


# The resolver, as a module attribute so that tests can answer for names of their own instead
# of asking DNS (these machines have no network to ask).
Resolver = Callable[..., list[tuple[Any, ...]]]
resolver: Resolver = socket.getaddrinfo

# getaddrinfo() takes no timeout, and a DNS server that never answers holds its caller for as long
# as the system resolver's own retries last. Lookups run on these threads instead, and the caller
# waits only as long as it may; a stuck lookup costs a thread here, not a worker.
_lookups = ThreadPoolExecutor(max_workers=32, thread_name_prefix="webhook-dns")


def resolve(host: str, *, deadline: float | None = None) -> list[IPAddress]:
    """Every address the host name (or IP literal, in any spelling) stands for.

    `deadline` (a `time.monotonic()` value) bounds the lookup; the default is the connect timeout.
    """
    if deadline is None:
        deadline = time.monotonic() + conf.CONNECT_TIMEOUT
    lookup = _lookups.submit(_lookup, host)
    try:
        return lookup.result(timeout=max(0.0, deadline - time.monotonic()))
    except FutureTimeout as error:
        lookup.cancel()
        raise DestinationRefused(f"The host {host!r} could not be looked up in time (DNS did not answer).") from error


def _lookup(host: str) -> list[IPAddress]:
    """Ask the resolver (on a thread of `_lookups`: it takes no timeout)."""
    try:
        infos = resolver(host, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError) as error:
        raise DestinationRefused(f"The host {host!r} could not be found.") from error
    # Strip an IPv6 zone ("fe80::1%eth0") before parsing.
    addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    if not addresses:
        raise DestinationRefused(f"The host {host!r} could not be found.")
    return addresses


def check_host(host: str, *, deadline: float | None = None) -> list[IPAddress]:
    """The vetted addresses of a host, or DestinationRefused when any of them is not public.

    Every address counts, not only the first: a name whose answers mix a public and a private
    address could otherwise be steered to the private one.
    """
    return _vetted(host, resolve(host, deadline=deadline))


def _vetted(host: str, addresses: list[IPAddress]) -> list[IPAddress]:
    if not conf.ALLOW_PRIVATE_URLS:
        for address in addresses:
            if not address_is_public(address):
                raise DestinationRefused(
                    f"The host {host!r} points into a private or reserved network ({address}); "
                    "webhooks can only go to public addresses."
                )
    return addresses


# Vetted addresses of hosts at send time, reused for a few seconds: one DNS lookup per host and
# moment, not per attempt. Keyed by the address policy too, so a changed setting re-vets at once.
_vetted_addresses: dict[tuple[str, bool], tuple[IPAddress, float]] = {}
_vetted_lock = threading.Lock()
_VETTED_MAX = 10_000


def _cached(host: str) -> IPAddress | None:
    with _vetted_lock:
        cached = _vetted_addresses.get((host, conf.ALLOW_PRIVATE_URLS))
    return cached[0] if cached is not None and cached[1] > time.monotonic() else None


def _remember(host: str, address: IPAddress) -> IPAddress:
    now = time.monotonic()
    with _vetted_lock:
        if len(_vetted_addresses) >= _VETTED_MAX:
            for stale in [k for k, (_, until) in _vetted_addresses.items() if until <= now]:
                del _vetted_addresses[stale]
        _vetted_addresses[(host, conf.ALLOW_PRIVATE_URLS)] = (address, now + conf.DESTINATION_CACHE_SECONDS)
    return address


async def vetted_address_async(host: str) -> IPAddress:
    """The address to connect to for `host` at send time: vetted now, or within DESTINATION_CACHE_SECONDS.

    The lookup runs on a thread of its own, bounded by the caller's timeout. A refusal is never
    remembered: the next attempt asks DNS again (its answer may change back).
    """
    cached = _cached(host)
    if cached is not None:
        return cached
    addresses = await asyncio.get_running_loop().run_in_executor(_lookups, _lookup, host)
    return _remember(host, _vetted(host, addresses)[0])


def vetted_forget() -> None:
    """Forget every vetted address (tests that change what a name resolves to)."""
    with _vetted_lock:
        _vetted_addresses.clear()
