"""The HTTP transport: one POST on the event loop, to a vetted address, bounded in time and bytes, no redirects.

aiohttp's client, configured so that nothing a customer types or a receiver answers reaches further:
- the host is vetted (destinations) before every attempt, within the attempt's time, and the
  connection goes to the vetted address (handed to the client as its resolver's answer), so a
  rebinding DNS server cannot switch it; the name stays in the Host header and in TLS (SNI and
  the certificate are checked against it);
- no redirect is followed, no proxy read from the environment, no cookie kept between endpoints,
  nothing inflated (an answer is stored as sent: no compression bomb);
- one wall-clock deadline bounds the lookup, the connection, the request and the answer, however
  slowly a receiver trickles its bytes; at most RESPONSE_READ_LIMIT bytes of an answer are read.
Every outcome, whatever a receiver's bytes make the client raise, comes back as a `TransportResult`.
"""

from __future__ import annotations

import ast
import asyncio
import contextvars
import errno
import logging
import os
import re
import socket
import ssl
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import aiohttp
import certifi
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from ..conf import conf
from ..destinations import DestinationRefused, IPAddress, vetted_address_async
from ..storable import storable_text

REDIRECT_STATUSES = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class TransportResult:
    status_code: int | None
    body: bytes
    error: str
    duration_ms: int
    # The answer's headers, as (name, value) bytes pairs as sent: kept bounded and cleaned by the caller.
    raw_headers: tuple[tuple[bytes, bytes], ...] = ()
    timed_out: bool = False
    # Never left this machine: the destination was refused (SSRF guard) or the sender itself failed.
    not_sent: bool = False
    # The request's headers as the log shows them (signatures shortened, custom values hidden).
    request_headers: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    def header(self, name: str) -> str | None:
        """One header of the answer, read as Latin-1 (any bytes are some text); None when absent."""
        wanted = name.lower().encode()
        for key, value in self.raw_headers:
            if key.lower() == wanted:
                return value.decode("latin-1")
        return None


# True while this task is in an attempt: what libraries log meanwhile is about a customer's endpoint,
# with its URL (customers put tokens in paths and queries), and the attempt's record says it anyway.
_attempting = contextvars.ContextVar("integrations_attempting", default=False)


class _QuietDuringAttempts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _attempting.get()


# The loggers of the libraries on the sending path. A filter on a logger survives a host's LOGGING config.
LIBRARY_LOGGERS = ("aiohttp", "aiohttp.client", "aiohttp.internal", "asyncio")
for _name in LIBRARY_LOGGERS:
    logging.getLogger(_name).addFilter(_QuietDuringAttempts())


class _PinnedResolver(AbstractResolver):
    """The client's resolver: the address each host name was vetted to just before, never a DNS lookup."""

    def __init__(self) -> None:
        self.pinned: dict[str, IPAddress] = {}

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        address = self.pinned.get(host)
        if address is None:  # not vetted by this attempt: never connect to an unvetted address
            raise OSError(f"{host!r} was not vetted")
        return [
            {
                "hostname": host,
                "host": str(address),
                "port": port,
                "family": socket.AF_INET6 if address.version == 6 else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        self.pinned.clear()


@cache
def tls_context() -> ssl.SSLContext:
    """Certificates checked against certifi's authorities and the URL's host name (SNI sends the same name)."""
    return ssl.create_default_context(cafile=certifi.where())


class Client:
    """The HTTP client of one event loop: kept-alive connections, per host name, to vetted addresses."""

    def __init__(self) -> None:
        self.resolver = _PinnedResolver()
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                resolver=self.resolver,
                use_dns_cache=False,  # the vetted address is the only answer, vetted again every few seconds
                limit=0,  # the engine bounds what is in flight, by lane and by endpoint
                # Idle connections are kept 15 s (receivers' own idle timeouts run from 2 s to minutes): one a
                # receiver closed meanwhile fails before any answer, and the attempt is made again on a new one.
                keepalive_timeout=15.0,
                ssl=tls_context(),
            ),
            trust_env=False,  # HTTP(S)_PROXY and .netrc do not apply: nothing routes around the guard
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            skip_auto_headers=("Accept", "Accept-Encoding"),
            timeout=aiohttp.ClientTimeout(total=None),
            raise_for_status=False,
        )
        self._urls: dict[str, URL] = {}

    async def close(self) -> None:
        await self.session.close()

    def _url(self, url: str) -> URL:
        parsed = self._urls.get(url)
        if parsed is None:
            parsed = URL(url)
            if parsed.scheme not in {"http", "https"} or not parsed.host:
                raise ValueError(f"Not an http(s) URL: {url[:200]!r}")
            if len(self._urls) >= 10_000:
                self._urls.clear()
            self._urls[url] = parsed
        return parsed

    async def post(self, *, url: str, body: bytes, headers: dict[str, str], timeout: float) -> TransportResult:
        """POST once within `timeout` seconds of wall-clock time, DNS included; every outcome comes back."""
        started = time.monotonic()
        quiet = _attempting.set(True)
        target, looked_up = None, False
        try:
            async with asyncio.timeout(timeout):
                target = self._url(url)
                host = target.raw_host or ""
                # The lookup counts against the attempt's time; the address vetted is the one connected to.
                self.resolver.pinned[host] = await vetted_address_async(host)
                looked_up = True
                try:
                    return await self._post(target, body, headers, started)
                except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as error:
                    if not _closed_before_answering(error):
                        raise
                    # A kept-alive connection the receiver had closed: tried once more on a fresh one.
                    return await self._post(target, body, headers, started)
        except DestinationRefused as error:
            return _result(started, error=f"Not sent: {error}", not_sent=True)
        except TimeoutError:
            if target is not None and not looked_up:
                silent = f"The host {target.raw_host!r} could not be looked up in time (DNS did not answer)."
                return _result(started, error=f"Not sent: {silent}", not_sent=True)
            return _result(started, error=f"Timed out: no complete answer within {timeout:g} s.", timed_out=True)
        except Exception as error:  # whatever a receiver's bytes make a client raise is a failed attempt
            return _result(started, error=_failure(error))
        finally:
            _attempting.reset(quiet)

    async def _post(self, target: URL, body: bytes, headers: dict[str, str], started: float) -> TransportResult:
        async with self.session.request(
            "POST",
            target,
            data=body,
            headers={"Accept-Encoding": "identity", **headers},
            allow_redirects=False,
        ) as answer:
            content, complete = await _read_capped(answer.content, limit=conf.RESPONSE_READ_LIMIT)
            if not complete:
                answer.close()  # unread bytes left: the connection cannot carry the next request
            error = ""
            location = answer.headers.get("Location")
            if answer.status in REDIRECT_STATUSES and location is not None:
                error = f"Redirects are not followed (HTTP {answer.status} to {location[:200]!r})."
            return _result(
                started, status_code=answer.status, body=content, error=error, raw_headers=tuple(answer.raw_headers)
            )


async def _read_capped(stream: aiohttp.StreamReader, *, limit: int) -> tuple[bytes, bool]:
    """At most `limit` bytes of the body; True when that was all of it (a body cut short raises)."""
    received = bytearray()
    while len(received) <= limit:
        chunk = await stream.read(limit + 1 - len(received))
        if not chunk:
            return bytes(received), True
        received += chunk
    return bytes(received[:limit]), False


def _result(started: float, **fields: Any) -> TransportResult:
    fields.setdefault("status_code", None)
    fields.setdefault("body", b"")
    fields.setdefault("error", "")
    return TransportResult(duration_ms=int((time.monotonic() - started) * 1000), **fields)


def _closed_before_answering(error: Exception) -> bool:
    """The connection was gone before the receiver said a word: nothing of the request was answered."""
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return error.message is None or isinstance(error.message, str)
    if isinstance(error, aiohttp.ClientConnectorError):
        return False  # a new connection that failed: nothing was kept alive
    return isinstance(error, aiohttp.ClientOSError) and (
        "write request body" in str(error) or error.errno in {errno.ECONNRESET, errno.EPIPE}
    )


def _failure(error: BaseException) -> str:
    """What went wrong, in a line an admin can read (what the receiver sent is quoted, escaped)."""
    if isinstance(error, aiohttp.ServerDisconnectedError):
        if error.message is None or isinstance(error.message, str):
            return "Connection failed: The receiver closed the connection without answering."
        return "Connection failed: The receiver closed the connection in the middle of its answer."
    if isinstance(error, aiohttp.ClientResponseError):  # the answer is not valid HTTP
        return f"Connection failed: The answer is not valid HTTP: {_parser_complaint(str(error.message))}"
    if isinstance(error, aiohttp.ClientPayloadError):
        return f"Connection failed: {_one_line(_reason(error))}"
    if isinstance(error, aiohttp.ClientConnectorCertificateError):
        refused = error.certificate_error
        reason = getattr(refused, "verify_message", "") or _reason(refused)
        return f"Connection failed: The receiver's certificate was refused ({_one_line(reason)})."
    if isinstance(error, aiohttp.ClientSSLError):
        return f"Connection failed: TLS failed ({_one_line(_reason(error))})."
    if isinstance(error, aiohttp.ClientConnectorError):
        code = error.os_error.errno
        # "Connection refused", not the event loop's "Connect call failed ('203.0.113.9', 443)".
        return f"Connection failed: {os.strerror(code) if code else _one_line(_reason(error.os_error))}"
    if isinstance(error, (aiohttp.ClientConnectionError, ssl.SSLError, ConnectionError)):
        return f"Connection failed: {_one_line(_reason(error))}"
    return f"Request failed: {_one_line(_reason(error))}"


# The parser quotes what the receiver sent as a bytes literal (b'HTTP/2\\x00x 200 OK'), under a caret line.
_QUOTED = re.compile(r"b'(?:[^'\\]|\\.)*'" + r'|b"(?:[^"\\]|\\.)*"')


def _parser_complaint(message: str) -> str:
    """The parser's complaint on one line, with the receiver's bytes as they were sent (cleaned when stored)."""

    def sent(match: re.Match[str]) -> str:
        try:
            return str(ast.literal_eval(match.group()).decode("latin-1"))
        except (ValueError, SyntaxError):
            return match.group()

    words = [word for word in _QUOTED.sub(sent, message).split() if set(word) != {"^"}]
    return " ".join(words)[:500]


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())[:500]


def _reason(error: BaseException) -> str:
    # The innermost cause is the readable one ("Connection refused"), not a wrapper's text.
    cause: BaseException = error
    seen: set[int] = set()
    while id(cause) not in seen:  # a chain can loop back on itself
        seen.add(id(cause))
        inner = cause.__cause__ or cause.__context__
        if inner is None:
            break
        cause = inner
    try:
        text = str(cause)
    except Exception:  # a broken __str__ must not turn a failed attempt into a crash
        text = ""
    return (text or type(cause).__name__)[:500]


# A receiver's headers as kept in the log: enough to debug with, bounded whatever it sends.
RESPONSE_HEADERS_MAX = 30
RESPONSE_HEADER_VALUE_LIMIT = 500


def storable_headers(raw_headers: tuple[tuple[bytes, bytes], ...]) -> dict[str, str]:
    return {
        storable_text(name, limit=100): storable_text(value, limit=RESPONSE_HEADER_VALUE_LIMIT)
        for name, value in raw_headers[:RESPONSE_HEADERS_MAX]
    }


def post(*, url: str, body: bytes, headers: dict[str, str], timeout: float | None = None) -> TransportResult:
    """One POST from synchronous code, on a loop of its own (tests, a shell): what the engine does for each attempt."""

    async def once() -> TransportResult:
        client = Client()
        try:
            return await client.post(
                url=url, body=body, headers=headers, timeout=conf.ATTEMPT_TIMEOUT if timeout is None else timeout
            )
        finally:
            await client.close()

    return asyncio.run(once())
