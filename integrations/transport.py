"""The HTTP transport: kept-alive connections, bounded in wall-clock time and bytes, no redirects."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from .conf import conf
from .destinations import DestinationRefused, check_host, vetted_address


@dataclass
class _Arming:
    deadline: float
    sock: socket.socket | None = None
    fired: bool = False


class _Watchdog:
    """Cuts an attempt's socket at its deadline.

    Socket timeouts bound each read, not their sum: a receiver trickling one byte every few
    seconds would hold a worker forever. One thread per process watches every attempt in flight.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._armed: dict[int, _Arming] = {}
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float) -> None:
        with self._condition:
            self._armed[threading.get_ident()] = _Arming(deadline)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._watch, name="webhook-attempt-watchdog", daemon=True)
                self._thread.start()
            self._condition.notify()

    def track(self, sock: socket.socket | None) -> None:
        with self._condition:
            arming = self._armed.get(threading.get_ident())
            if arming is None or sock is None:
                return
            arming.sock = sock
            if arming.fired:
                _cut(sock)

    def disarm(self) -> bool:
        """Stop watching this thread's attempt; True when its deadline had passed."""
        with self._condition:
            arming = self._armed.pop(threading.get_ident(), None)
            return arming is not None and arming.fired

    def _watch(self) -> None:
        with self._condition:
            while True:
                now = time.monotonic()
                waiting = [arming for arming in self._armed.values() if not arming.fired]
                for arming in waiting:
                    if arming.deadline <= now:
                        arming.fired = True
                        if arming.sock is not None:
                            _cut(arming.sock)
                upcoming = [arming.deadline for arming in waiting if not arming.fired]
                self._condition.wait(min(upcoming) - now if upcoming else None)


def _cut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


_watchdog = _Watchdog()


class _WatchedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _watchdog.track(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watchdog.track(self.sock)  # a kept-alive connection is not connected again
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _watchdog.track(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watchdog.track(self.sock)
        super().request(*args, **kwargs)


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _WebhookAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def build_connection_pool_key_attributes(  # type: ignore[override]  # the stubs' TypedDicts lack TLS keys
        self, request: requests.PreparedRequest, verify: bool | str, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Vet the host's addresses now, and connect to the vetted one: no second DNS lookup.

        The DNS answer of this moment is checked (it may differ from the one at save time), and
        the connection goes to that address, so a rebinding DNS server cannot switch it. The
        original name stays in the Host header and in TLS (SNI and the certificate check).
        """
        params, kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        host_params: dict[str, Any] = dict(params)
        pool_kwargs: dict[str, Any] = dict(kwargs)
        hostname = host_params["host"].strip("[]")
        # post() vetted the host within the attempt's deadline; a lookup here is for other callers.
        address = getattr(request, "vetted_address", None)
        if address is None:
            address = check_host(hostname)[0]
        host_params["host"] = f"[{address}]" if address.version == 6 else str(address)
        request.headers["Host"] = urlsplit(request.url or "").netloc
        if host_params["scheme"] == "https":
            pool_kwargs["assert_hostname"] = hostname
            pool_kwargs["server_hostname"] = hostname
        return host_params, pool_kwargs


_adapter: HTTPAdapter | None = None


def adapter() -> HTTPAdapter:
    """The process's connection pools: a kept-alive connection saves a TCP (and TLS) handshake per POST.

    Requests go straight to the adapter, not through a Session: no cookie jar is shared between
    customers' endpoints, no environment proxy can reroute them, and no redirect is looked at
    (a Session reads a redirect's whole body to prepare following it).
    """
    global _adapter
    if _adapter is None:
        _adapter = _WebhookAdapter(pool_connections=32, pool_maxsize=4, max_retries=0)
    return _adapter


@dataclass(frozen=True)
class TransportResult:
    status_code: int | None
    body: bytes
    error: str
    duration_ms: int
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _AttemptTimeout(Exception):
    pass


def _read_capped(response: requests.Response, *, limit: int, deadline: float) -> bytes:
    """At most `limit` bytes of the body, read within the attempt's deadline."""
    received = bytearray()
    while len(received) < limit:
        if time.monotonic() > deadline:
            raise _AttemptTimeout
        chunk = response.raw.read1(min(16384, limit - len(received)))
        if not chunk:
            break
        received += chunk
    return bytes(received)


def post(*, url: str, body: bytes, headers: dict[str, str]) -> TransportResult:
    """POST once; every outcome, a refused connection, a timeout or any exception, comes back as a result."""
    started = time.monotonic()
    deadline = started + conf.ATTEMPT_TIMEOUT
    timed_out = f"Timed out: no complete answer within {conf.ATTEMPT_TIMEOUT:g} s."

    def result(status_code: int | None = None, content: bytes = b"", error: str = "", **kw: Any) -> TransportResult:
        elapsed_ms = int((time.monotonic() - started) * 1000)
        return TransportResult(status_code=status_code, body=content, error=error, duration_ms=elapsed_ms, **kw)

    _watchdog.arm(deadline)
    try:
        request = requests.Request("POST", url, data=body, headers=headers).prepare()
        # The DNS lookup counts against the attempt's time, and the connection goes to the vetted address.
        request.vetted_address = vetted_address(urlsplit(url).hostname or "", deadline=deadline)  # type: ignore[attr-defined]
        remaining = max(0.001, deadline - time.monotonic())
        with adapter().send(
            request,
            stream=True,
            timeout=(min(conf.CONNECT_TIMEOUT, remaining), remaining),
            verify=True,
            proxies={},
        ) as response:
            content = _read_capped(response, limit=conf.RESPONSE_READ_LIMIT, deadline=deadline)
            error = ""
            if response.is_redirect:
                location = response.headers.get("Location", "")
                error = f"Redirects are not followed (HTTP {response.status_code} to {location[:200]!r})."
            return result(response.status_code, content, error, headers=dict(response.headers))
    except (requests.Timeout, _AttemptTimeout):
        return result(error=timed_out)
    except DestinationRefused as error:
        return result(error=f"Not sent: {error}")
    except Exception as error:  # whatever a receiver's bytes make a client raise is a failed attempt
        if _watchdog.disarm():
            return result(error=timed_out)
        kind = "Connection failed" if isinstance(error, requests.ConnectionError) else "Request failed"
        return result(error=f"{kind}: {_reason(error)}")
    finally:
        _watchdog.disarm()


def _reason(error: BaseException) -> str:
    # The innermost cause is the readable one ("Connection refused"), not urllib3's wrapper text.
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
