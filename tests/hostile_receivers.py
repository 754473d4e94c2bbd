"""A raw-socket receiver on loopback that answers exactly the bytes a test gives it, and the hostile answers
the suite sends through it (the app's tests/integrations/test_hostile_receivers.py, and DialogForm's
tests/faults/test_log_privacy.py)."""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest


@dataclass
class RawReceiver:
    """A TCP server that reads one HTTP request per connection, then writes `answer` and closes."""

    answer: bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
    # The answer by the request's path (its first line's second word), when set; `answer` otherwise.
    answers_by_path: dict[bytes, bytes] = field(default_factory=dict)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.running = True
        threading.Thread(target=self._serve, daemon=True).start()

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _serve(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                received = b""
                while b"\r\n\r\n" not in received:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    received += chunk
                head, _, body = received.partition(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                while len(body) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    body += chunk
                with self.lock:
                    self.requests += 1
                path = head.split(b"\r\n", 1)[0].split(b" ")[1:2]
                conn.sendall(self.answers_by_path.get(path[0] if path else b"", self.answer))
                conn.shutdown(socket.SHUT_WR)
            except OSError:
                return

    def stop(self) -> None:
        self.running = False
        self.sock.close()


@pytest.fixture
def raw_receiver() -> Iterator[RawReceiver]:
    receiver = RawReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


def response(status_line: bytes, *headers: bytes, body: bytes = b"", length: bool = True) -> bytes:
    lines = [status_line, *headers]
    if length:
        lines.append(b"Content-Length: %d" % len(body))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


# Answers that broke, or could break, a job; each must end as an attempt on record.
HOSTILE_ANSWERS = {
    # int("²") fails although "²".isdigit(): the job died before recording, and the same
    # webhook-id was POSTed every minute for ever.
    "Retry-After: superscript two": response(b"HTTP/1.1 429 Too Many Requests", b"Retry-After: \xb2"),
    "Retry-After: superscript three": response(b"HTTP/1.1 503 Unavailable", b"Retry-After: \xb3"),
    "Retry-After: superscript one": response(b"HTTP/1.1 429 Too Many Requests", b"Retry-After: \xb9"),
    "Retry-After: 5,000 digits": response(b"HTTP/1.1 429 Too Many Requests", b"Retry-After: " + b"9" * 5000),
    "Retry-After: a date that is not one": response(b"HTTP/1.1 503 X", b"Retry-After: Mon, 99 Foo 2026 25:61:61 GMT"),
    "Retry-After: a NUL": response(b"HTTP/1.1 429 X", b"Retry-After: 1\x002"),
    # PostgreSQL refused the error text that quoted this line ("cannot contain NUL (0x00) bytes").
    "a NUL in the status line": b"HTTP/2\x00x 200 OK\r\n\r\n",
    "a NUL in the reason": response(b"HTTP/1.1 500 Bo\x00om"),
    "a NUL in the body": response(b"HTTP/1.1 500 Internal", body=b"before\x00after"),
    "a NUL in a header": response(b"HTTP/1.1 500 Internal", b"X-Debug: a\x00b"),
    "an escape sequence in the body": response(b"HTTP/1.1 400 Bad", body=b"\x1b[31mred\x1b[0m\x07"),
    "invalid UTF-8 in the body": response(b"HTTP/1.1 500 Internal", body=b"\xff\xfe\xed\xa0\x80\xc0"),
    "Latin-1 in a header": response(b"HTTP/1.1 500 Internal", b"X-Name: caf\xe9"),
    "a redirect to a NUL": response(b"HTTP/1.1 302 Found", b"Location: /\x00x"),
    "a header line without a colon": response(b"HTTP/1.1 200 OK", b"no colon here"),
    "a header line of 70,000 bytes": response(b"HTTP/1.1 200 OK", b"X-Long: " + b"a" * 70_000),
    "101 headers": response(b"HTTP/1.1 200 OK", *(b"X-%d: y" % n for n in range(101))),
    "nothing at all": b"",
    "bytes that are not HTTP": b"\x00\x01\x02\xff not http at all",
    "HTTP/0.9 style": b"hello",
    "status 999": response(b"HTTP/1.1 999 Odd"),
    "status 0": response(b"HTTP/1.1 000 Zero"),
    "status -1": response(b"HTTP/1.1 -1 Negative"),
    "status in Unicode digits": response(b"HTTP/1.1 \xb2\xb2\xb2 Superscripts"),
    "status of letters": response(b"HTTP/1.1 abc Letters"),
    "a bad chunk size": response(b"HTTP/1.1 200 OK", b"Transfer-Encoding: chunked", body=b"zz\r\n", length=False),
    "a chunked body cut short": response(
        b"HTTP/1.1 200 OK", b"Transfer-Encoding: chunked", body=b"5\r\nab", length=False
    ),
    "a body shorter than its Content-Length": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc",
    "gzip that is not gzip": response(b"HTTP/1.1 500 Internal", b"Content-Encoding: gzip", body=b"not gzip"),
    "gzip of a NUL": response(b"HTTP/1.1 500 Internal", b"Content-Encoding: gzip", body=gzip.compress(b"\x00" * 100)),
    "two Content-Lengths that differ": response(b"HTTP/1.1 500 X", b"Content-Length: 1", body=b"ab"),
    "a header block cut short": b"HTTP/1.1 200 OK\r\nContent-Ty",
    "a status line, then the end": b"HTTP/1.1 200 OK\r\n",
    "headers without their empty line": b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n",
}
# Answers that end before their header block does: no answer at all, whatever status they started with.
CUT_SHORT = ["a header block cut short", "a status line, then the end", "headers without their empty line"]
