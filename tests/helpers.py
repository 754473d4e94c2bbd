"""Helpers of the test suite (the fixtures that use them are in conftest.py)."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import strategies as st

from integrations.adapter import subscribable_names


class SilentServer:
    """A TCP server on loopback that accepts connections and never says a word (a Redis that hangs)."""

    def __init__(self, listener: socket.socket) -> None:
        self.port = listener.getsockname()[1]
        self.held: list[socket.socket] = []
        self._accepting = threading.Thread(target=lambda: self.held.append(listener.accept()[0]), daemon=True)
        self._accepting.start()

    def hang_up(self) -> None:
        """Close what it accepted: a client waiting on it fails at once."""
        self._accepting.join(5)
        for connection in self.held:
            connection.close()


@contextmanager
def silent_server() -> Iterator[SilentServer]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        server = SilentServer(listener)
        try:
            yield server
        finally:
            server.hang_up()


class FakeDNS:
    """Answers for host names in place of DNS: these machines must not query a real resolver.

    IP literals in any spelling are parsed as the system resolver would (without a lookup);
    `localhost` and the names a test adds resolve to their addresses; any other name does not
    exist. The SSRF guard asks this through `integrations.destinations.resolver`.
    """

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {"localhost": ["127.0.0.1"]}

    def __call__(self, host: str, port: Any, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        try:
            return socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP, flags=socket.AI_NUMERICHOST)
        except socket.gaierror:
            pass
        if host in self.names:
            return [
                (socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port or 0))
                for address in self.names[host]
            ]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def received(server: Any, path: str = "/hook") -> list[tuple[dict[str, Any], dict[str, str], bytes]]:
    """(parsed body, headers, raw body) of every POST that reached `path`, in order."""
    return [
        (json.loads(request.get_data()), {k.lower(): v for k, v in request.headers.items()}, request.get_data())
        for request, _ in server.log
        if request.path == path
    ]


def bodies(server: Any, path: str = "/hook") -> list[dict[str, Any]]:
    return [body for body, _, _ in received(server, path)]


def endpoint_form(url: str, **fields: Any) -> dict[str, Any]:
    """The Integrations page's endpoint form as a browser posts it: every event ticked, enabled, by default."""

    return {
        "url": url,
        "description": "",
        "event_types": list(subscribable_names()),
        "is_active": "on",
        "max_rate": "",
        "custom_headers": "",
        **fields,
    }


def rate_window_with_room(key_value: str, *, period: int = 60, room: float = 5.0) -> None:
    """Wait, when need be, until the action limit's window for this key has `room` seconds left.

    django-ratelimit counts in fixed windows (their ends staggered per key): a burst of requests
    that straddled a window's end would be counted in two windows, and a test of "the sixth is
    refused" would fail about once in 60 runs. `_get_window` is the library's own computation.
    """
    from django_ratelimit.core import _get_window

    left = _get_window(key_value, period) - time.time()
    if left < room:
        time.sleep(max(0.0, left) + 1.05)  # _get_window counts in whole seconds


MetricSamples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def metric_samples(text: str) -> MetricSamples:
    """/metrics' text as {(sample name, sorted labels): value}."""
    from prometheus_client.parser import text_string_to_metric_families

    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def api_cursor(tokens: dict[str, str]) -> str:
    """A cursor of the details API as its pages write them (base64 of `o=…&r=…&p=…`), ready for a query string."""
    return quote(base64.b64encode(urlencode(tokens).encode()).decode(), safe="")


# Cursors the API could have written: a position (any time, in any offset), an offset, a direction.
our_cursors = st.fixed_dictionaries(
    {"p": st.datetimes(datetime(1970, 1, 1), datetime(2200, 1, 1), timezones=st.timezones()).map(str)},
    optional={"o": st.integers(1, 50).map(str), "r": st.just("1")},
).map(lambda tokens: base64.b64encode(urlencode(tokens).encode()).decode())
