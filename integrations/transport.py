"""The HTTP transport: kept-alive connections to vetted addresses, bounded in time and bytes, no redirects."""

from __future__ import annotations

import contextlib
import contextvars
import http.client
import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import certifi
from urllib3 import BaseHTTPResponse, PoolManager, Timeout
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError, ProtocolError, SSLError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from .conf import conf
from .destinations import DestinationRefused, vetted_address


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
        self._wakes_at = float("inf")

    def arm(self, deadline: float) -> None:
        with self._condition:
            self._armed[threading.get_ident()] = _Arming(deadline)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._watch, name="webhook-attempt-watchdog", daemon=True)
                self._thread.start()
            if deadline < self._wakes_at:
                # Woken only when this deadline comes first: a thread switch per attempt costs more than the POST.
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
                self._wakes_at = min(upcoming, default=float("inf"))
                self._condition.wait(self._wakes_at - now if upcoming else None)


def _cut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


_watchdog = _Watchdog()


class AnswerCutShort(http.client.HTTPException):
    """The receiver closed the connection before its answer's header block ended."""


class _LineWatch:
    """An answer's stream that remembers the last line read: the header block must end with an empty line."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.last_line: bytes | None = None

    def readline(self, limit: int = -1) -> bytes:
        self.last_line = self.stream.readline(limit)
        return self.last_line

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class _FramedResponse(http.client.HTTPResponse):
    """http.client takes the end of the stream for the end of the headers; an answer cut there is no answer.

    `HTTP/1.1 200 OK\r\nContent-Ty`, then a close, is a failed attempt (retried with the same
    webhook-id), not a success: at least once means a lost notification is worse than a repeated one.
    """

    def begin(self) -> None:
        if self.headers is not None:
            return
        watch = _LineWatch(self.fp)
        self.fp = watch
        try:
            super().begin()
        finally:
            self.fp = watch.stream
        if watch.last_line == b"":
            self.close()
            raise AnswerCutShort("The receiver closed the connection in the middle of its answer.")


# True while this thread (or task) is in an attempt: what libraries log meanwhile is about a customer's
# endpoint, with its URL (customers put tokens in paths and queries), and the attempt's record says it anyway.
_attempting = contextvars.ContextVar("integrations_attempting", default=False)


class _QuietDuringAttempts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _attempting.get()


# The loggers of the libraries on the sending path. A filter on a logger survives a host's LOGGING config.
LIBRARY_LOGGERS = (
    "urllib3",
    "urllib3.connection",
    "urllib3.connectionpool",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
    "urllib3.util.ssl_",
)
for _name in LIBRARY_LOGGERS:
    logging.getLogger(_name).addFilter(_QuietDuringAttempts())


class _WatchedHTTPConnection(HTTPConnection):
    response_class = _FramedResponse

    def connect(self) -> None:
        super().connect()
        _watchdog.track(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watchdog.track(self.sock)  # a kept-alive connection is not connected again
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    response_class = _FramedResponse

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


_pools: PoolManager | None = None
_pools_lock = threading.Lock()


def pools() -> PoolManager:
    """The process's kept-alive connections, one pool per vetted address: a POST skips the TCP (and TLS) handshake.

    urllib3 directly, not requests: nothing reads environment proxies or keeps cookies between
    customers' endpoints, no redirect is followed or read, and the call costs a third of a Session's.
    """
    global _pools
    with _pools_lock:
        if _pools is None:
            _pools = PoolManager(
                num_pools=1024,
                # A few connections per endpoint, as many as attempts may be in flight to it; more are not kept.
                maxsize=max(1, conf.ENDPOINT_CONCURRENCY),
                block=False,
                retries=False,
                cert_reqs="CERT_REQUIRED",
                ca_certs=certifi.where(),
            )
            _pools.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
        return _pools


# The pool of each (scheme, vetted address, port, host name), looked up once: the manager's own
# lookup builds a key of some twenty fields per call.
_pool_by_target: dict[tuple[str, Any, int, str], HTTPConnectionPool] = {}


def _pool(scheme: str, address: Any, port: int, hostname: str) -> HTTPConnectionPool:
    key = (scheme, address, port, hostname)
    pool = _pool_by_target.get(key)
    if pool is None or pool.pool is None:  # new, or closed by the manager making room for others
        pool_kwargs = {"server_hostname": hostname, "assert_hostname": hostname} if scheme == "https" else {}
        pool = pools().connection_from_host(str(address), port=port, scheme=scheme, pool_kwargs=pool_kwargs)
        if len(_pool_by_target) >= 1024:
            _pool_by_target.clear()
        _pool_by_target[key] = pool
    return pool


def pools_forget() -> None:
    """Close every kept-alive connection (tests; a changed ENDPOINT_CONCURRENCY)."""
    global _pools
    with _pools_lock:
        _pool_by_target.clear()
        if _pools is not None:
            _pools.clear()
        _pools = None


@dataclass(frozen=True)
class TransportResult:
    status_code: int | None
    body: bytes
    error: str
    duration_ms: int
    headers: dict[str, str] = field(default_factory=dict)
    timed_out: bool = False
    # Never left this machine: the destination was refused (SSRF guard) or the sender itself failed.
    not_sent: bool = False
    # The request's headers as the log shows them (signatures shortened, custom values hidden); set by the sender.
    request_headers: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class _AttemptTimeout(Exception):
    pass


REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_CONNECTION_ERRORS = (NewConnectionError, ProtocolError, SSLError, ConnectionError)


def _read_capped(response: BaseHTTPResponse, *, limit: int, deadline: float) -> tuple[bytes, bool]:
    """At most `limit` bytes of the body; True when that was all of it.

    One read: the watchdog cuts the socket at the attempt's deadline however the bytes trickle in.
    """
    received = response.read(limit + 1)
    if time.monotonic() > deadline:
        raise _AttemptTimeout
    return received[:limit], len(received) <= limit


def _target(url: str) -> tuple[str, str, int, str, str]:
    """scheme, host name, port, the path with its query, and the Host header of a webhook URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"Not an http(s) URL: {url[:200]!r}")
    port = parts.port or (443 if scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname, port, path, parts.netloc.rpartition("@")[2]


def post(*, url: str, body: bytes, headers: dict[str, str], timeout: float | None = None) -> TransportResult:
    """POST once; every outcome, a refused connection, a timeout or any exception, comes back as a result.

    `timeout` bounds the whole attempt in wall-clock time (default ATTEMPT_TIMEOUT). The host is
    vetted now (or within the last DESTINATION_CACHE_SECONDS) and the connection goes to the vetted
    address, so a rebinding DNS server cannot switch it; the name stays in the Host header and in
    TLS (SNI and the certificate check).
    """
    started = time.monotonic()
    limit = conf.ATTEMPT_TIMEOUT if timeout is None else timeout
    deadline = started + limit
    timed_out = f"Timed out: no complete answer within {limit:g} s."

    def result(status_code: int | None = None, content: bytes = b"", error: str = "", **kw: Any) -> TransportResult:
        elapsed_ms = int((time.monotonic() - started) * 1000)
        return TransportResult(status_code=status_code, body=content, error=error, duration_ms=elapsed_ms, **kw)

    _watchdog.arm(deadline)
    quiet = _attempting.set(True)
    response: BaseHTTPResponse | None = None
    try:
        scheme, hostname, port, path, host_header = _target(url)
        # The DNS lookup counts against the attempt's time.
        address = vetted_address(hostname, deadline=deadline)
        pool = _pool(scheme, address, port, hostname)
        remaining = max(0.001, deadline - time.monotonic())
        response = pool.urlopen(
            "POST",
            path,
            body=body,
            headers={**headers, "Host": host_header},
            retries=False,
            redirect=False,
            assert_same_host=False,
            timeout=Timeout(connect=min(conf.CONNECT_TIMEOUT, remaining), read=remaining),
            preload_content=False,
            decode_content=False,  # stored as sent, never inflated: no compression bomb
            release_conn=False,
        )
        content, complete = _read_capped(response, limit=conf.RESPONSE_READ_LIMIT, deadline=deadline)
        if not complete:
            response.close()  # unread bytes left: the connection cannot carry the next request
        error = ""
        location = response.headers.get("Location")
        if response.status in REDIRECT_STATUSES and location is not None:
            error = f"Redirects are not followed (HTTP {response.status} to {location[:200]!r})."
        return result(response.status, content, error, headers=dict(response.headers))
    except DestinationRefused as error:
        return result(error=f"Not sent: {error}", not_sent=True)
    except Exception as error:  # whatever a receiver's bytes make a client raise is a failed attempt
        # (urllib3's NewConnectionError is a kind of its TimeoutError: a refused connection is no timeout.)
        timeout_error = isinstance(error, (TimeoutError, Urllib3Timeout, _AttemptTimeout))
        if _watchdog.disarm() or (timeout_error and not isinstance(error, NewConnectionError)):
            return result(error=timed_out, timed_out=True)
        if response is not None:
            response.close()
        kind = "Connection failed" if isinstance(error, _CONNECTION_ERRORS) else "Request failed"
        return result(error=f"{kind}: {_reason(error)}")
    finally:
        _watchdog.disarm()
        if response is not None:
            response.release_conn()
        _attempting.reset(quiet)


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
