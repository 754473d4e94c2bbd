"""The transport's bounds: wall-clock time against trickling receivers, bytes read, no redirects; TLS to the name."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import trustme

from integrations.sending import transport
from tests.helpers import FakeDNS


@pytest.fixture
def raw_receiver() -> Iterator[Callable[[Callable[[socket.socket], None]], str]]:
    """A loopback TCP server whose connection handler the test writes byte by byte."""
    servers: list[socket.socket] = []
    stop = threading.Event()

    def start(handle: Callable[[socket.socket], None]) -> str:
        server = socket.create_server(("127.0.0.1", 0))
        servers.append(server)

        def serve() -> None:
            connection, _ = server.accept()
            with connection:
                connection.recv(65536)
                with contextlib.suppress(OSError):  # the client cut the connection, as it should
                    handle(connection)

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{server.getsockname()[1]}/"

    yield start
    stop.set()
    for server in servers:
        server.close()


def trickle(data: bytes, every: float) -> Callable[[socket.socket], None]:
    def handle(connection: socket.socket) -> None:
        for byte in data:
            connection.sendall(bytes([byte]))
            time.sleep(every)

    return handle


def post(url: str) -> transport.TransportResult:
    return transport.post(url=url, body=b"{}", headers={"Content-Type": "application/json"})


def test_a_receiver_trickling_its_headers_is_cut_off_at_the_deadline(raw_receiver: Any, settings: Any) -> None:
    settings.INTEGRATIONS_ATTEMPT_TIMEOUT = 1.0
    # Each byte comes well within any read timeout; only a wall-clock bound stops this.
    url = raw_receiver(trickle(b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000, every=0.05))
    started = time.monotonic()
    result = post(url)
    # Unbounded, this answer would take 50 s; the margin over the 1 s deadline is for a busy machine.
    assert time.monotonic() - started < 4.0
    assert result.status_code is None
    assert result.error.startswith("Timed out")


def test_a_receiver_trickling_its_body_is_cut_off_at_the_deadline(raw_receiver: Any, settings: Any) -> None:
    settings.INTEGRATIONS_ATTEMPT_TIMEOUT = 1.0
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"

    def handle(connection: socket.socket) -> None:
        connection.sendall(head)
        trickle(b"x" * 1000, every=0.05)(connection)

    started = time.monotonic()
    result = post(raw_receiver(handle))
    assert time.monotonic() - started < 4.0  # unbounded: 50 s
    assert result.error.startswith("Timed out")


def test_at_most_64_kib_of_an_answer_is_read(raw_receiver: Any) -> None:
    def handle(connection: socket.socket) -> None:
        connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 10000000\r\n\r\n")
        connection.sendall(b"y" * 200_000)
        time.sleep(10)

    started = time.monotonic()
    result = post(raw_receiver(handle))
    assert time.monotonic() - started < 5  # it did not wait for the rest (10 s away)
    assert result.status_code == 200
    assert len(result.body) == 64 * 1024


def test_an_answer_that_is_not_http_is_a_failed_attempt(raw_receiver: Any) -> None:
    def handle(connection: socket.socket) -> None:
        connection.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")

    result = post(raw_receiver(handle))
    assert result.status_code is None
    assert result.error.startswith("Connection failed") or result.error.startswith("Request failed")


def test_kept_alive_connections_are_reused() -> None:
    client_ports: list[int] = []

    class KeepAlive(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # pytest-httpserver answers HTTP/1.0 and closes every connection

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            client_ports.append(self.client_address[1])
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), KeepAlive)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    async def three_posts() -> list[int | None]:
        client = transport.Client()  # one client, as the engine keeps one for every attempt of its process
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/"
            return [(await client.post(url=url, body=b"{}", headers={}, timeout=5)).status_code for _ in range(3)]
        finally:
            await client.close()

    try:
        assert asyncio.run(three_posts()) == [204, 204, 204]
    finally:
        server.shutdown()
        server.server_close()
    assert len(client_ports) == 3
    assert len(set(client_ports)) == 1


def test_a_malformed_url_is_a_failed_attempt_not_an_exception() -> None:
    result = post("http://[::1")
    assert result.status_code is None
    assert result.error


def test_an_exception_that_cannot_say_what_it_is_is_named() -> None:
    class Mute(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no words")

    assert transport._reason(Mute()) == "Mute"


@pytest.fixture
def tls_receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], tuple[int, list[str], list[str]]]]:
    """tls_receiver(name) -> (port, server names the clients asked for, Host headers): an HTTPS receiver on
    loopback whose certificate, from a certificate authority of the test's own, is for `name`."""
    authority = trustme.CA()
    trusted = ssl.create_default_context()
    authority.configure_trust(trusted)
    monkeypatch.setattr(transport, "tls_context", lambda: trusted)  # certifi's authorities know nothing of it
    servers: list[ThreadingHTTPServer] = []

    def start(name: str) -> tuple[int, list[str], list[str]]:
        asked: list[str] = []
        hosts: list[str] = []
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        authority.issue_cert(name).configure_cert(context)
        context.sni_callback = lambda sock, server_name, ctx: asked.append(server_name)  # type: ignore[func-returns-value]

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                hosts.append(self.headers["Host"])
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server.server_address[1], asked, hosts

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_tls_goes_to_the_vetted_address_with_the_host_name_in_sni_and_the_certificate(
    tls_receiver: Any, dns: FakeDNS
) -> None:
    dns.names["hooks.customer.example"] = ["127.0.0.1"]
    port, asked, hosts = tls_receiver("hooks.customer.example")
    result = post(f"https://hooks.customer.example:{port}/hook")
    assert (result.status_code, result.error) == (204, "")
    assert asked == ["hooks.customer.example"]  # SNI: the name, though the connection went to the vetted address
    assert hosts == [f"hooks.customer.example:{port}"]


def test_a_certificate_for_another_name_is_refused(tls_receiver: Any, dns: FakeDNS) -> None:
    dns.names["hooks.customer.example"] = ["127.0.0.1"]
    port, _, hosts = tls_receiver("someone-else.example")
    result = post(f"https://hooks.customer.example:{port}/hook")
    assert result.status_code is None
    assert result.error.startswith("Connection failed") and "certificate" in result.error.lower()
    assert hosts == []  # nothing was sent to a server that could not prove it is the host


def test_a_certificate_from_an_unknown_authority_is_refused(dns: FakeDNS) -> None:
    authority = trustme.CA()  # trusted by no one
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("hooks.customer.example").configure_cert(context)
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    dns.names["hooks.customer.example"] = ["127.0.0.1"]
    try:
        result = post(f"https://hooks.customer.example:{server.server_address[1]}/hook")
    finally:
        server.shutdown()
        server.server_close()
    assert result.status_code is None
    assert "certificate" in result.error.lower()
