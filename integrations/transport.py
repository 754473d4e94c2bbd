"""The HTTP transport: one kept-alive session per process, bounded in time and bytes, no redirects."""

from __future__ import annotations

import time
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter

from .conf import conf

_adapter: HTTPAdapter | None = None


def adapter() -> HTTPAdapter:
    """The process's connection pools: a kept-alive connection saves a TCP (and TLS) handshake per POST.

    Requests go straight to the adapter, not through a Session: no cookie jar is shared between
    customers' endpoints, no environment proxy can reroute them, and no redirect is looked at
    (a Session reads a redirect's whole body to prepare following it).
    """
    global _adapter
    if _adapter is None:
        _adapter = HTTPAdapter(pool_connections=32, pool_maxsize=4, max_retries=0)
    return _adapter


@dataclass(frozen=True)
class TransportResult:
    status_code: int | None
    body: bytes
    error: str
    duration_ms: int

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
    started = time.monotonic()
    deadline = started + conf.ATTEMPT_TIMEOUT

    def result(status_code: int | None = None, content: bytes = b"", error: str = "") -> TransportResult:
        elapsed_ms = int((time.monotonic() - started) * 1000)
        return TransportResult(status_code=status_code, body=content, error=error, duration_ms=elapsed_ms)

    try:
        request = requests.Request("POST", url, data=body, headers=headers).prepare()
        with adapter().send(
            request, stream=True, timeout=(conf.CONNECT_TIMEOUT, conf.ATTEMPT_TIMEOUT), verify=True, proxies={}
        ) as response:
            content = _read_capped(response, limit=conf.RESPONSE_READ_LIMIT, deadline=deadline)
            error = ""
            if response.is_redirect:
                location = response.headers.get("Location", "")
                error = f"Redirects are not followed (HTTP {response.status_code} to {location[:200]!r})."
            return result(response.status_code, content, error)
    except (requests.Timeout, _AttemptTimeout):
        return result(error=f"Timed out: no complete answer within {conf.ATTEMPT_TIMEOUT:g} s.")
    except requests.ConnectionError as error:
        return result(error=f"Connection failed: {_reason(error)}")
    except requests.RequestException as error:
        return result(error=f"Request failed: {_reason(error)}")


def _reason(error: Exception) -> str:
    # The innermost cause is the readable one ("Connection refused"), not urllib3's wrapper text.
    cause: BaseException = error
    while cause.__cause__ is not None or cause.__context__ is not None:
        cause = cause.__cause__ or cause.__context__  # type: ignore[assignment]
    text = str(cause) or type(cause).__name__
    return text[:500]
