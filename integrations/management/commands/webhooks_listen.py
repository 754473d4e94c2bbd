"""A local webhook receiver (like `stripe listen`): prints each notification and checks its signature."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import standardwebhooks
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from integrations.models import Webhook

MAX_BODY = 1024 * 1024


def verify(body: bytes, headers: dict[str, str], secrets: list[tuple[str, str]]) -> str | None:
    """The label of the first secret the request's signature verifies against, or None."""
    for label, secret in secrets:
        try:
            standardwebhooks.Webhook(secret).verify(body, headers)
        except (standardwebhooks.WebhookVerificationError, ValueError):
            continue
        return label
    return None


def make_handler(
    secrets: Callable[[], list[tuple[str, str]]], write: Callable[[str], None], status: int
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "webhooks_listen"

        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            body = self.rfile.read(length)
            headers = {key.lower(): value for key, value in self.headers.items()}
            verified_by = verify(body, headers, secrets())
            try:
                payload: Any = json.loads(body)
                kind, data = payload.get("type", "?"), json.dumps(payload.get("data"), ensure_ascii=False)
            except (ValueError, AttributeError):
                kind, data = "(not JSON)", body[:500].decode("utf-8", errors="replace")
            signature = f"signature verified ({verified_by})" if verified_by else "signature NOT verified"
            write(f"[{datetime.now():%H:%M:%S}] {kind} {headers.get('webhook-id', '-')} {signature}\n    data: {data}")
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per notification is printed above; no access log

    return Handler


class Command(BaseCommand):
    help = "Receive webhooks on a local port, print each notification and whether its signature verified."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=9000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--secret",
            action="append",
            default=[],
            help="Verify against this secret (repeatable). Default: the secrets of the webhooks in the database.",
        )
        parser.add_argument("--status", type=int, default=200, help="HTTP status to answer with (default 200).")

    def handle(self, *args: Any, **options: Any) -> None:
        given = [(f"--secret {index + 1}", secret) for index, secret in enumerate(options["secret"])]

        def secrets() -> list[tuple[str, str]]:
            if given:
                return given
            # Read at each request, so a saved or newly created webhook is picked up at once.
            close_old_connections()
            try:
                return [(f"webhook {pk}", secret) for pk, secret in Webhook.objects.values_list("pk", "secret")]
            finally:
                close_old_connections()

        def write(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        handler = make_handler(secrets, write, options["status"])
        server = ThreadingHTTPServer((options["host"], options["port"]), handler)
        write(f"Listening for webhooks on http://{options['host']}:{options['port']}/ (Ctrl-C to stop)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
