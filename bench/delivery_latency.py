"""End-to-end delivery latency and throughput: a chat save → the signed POST at a loopback receiver.

Real parts only: its own redis-server on a free port, a temporary SQLite database, the documented
`python manage.py rqworker webhooks` in a separate process, and an HTTP receiver on 127.0.0.1.

    .venv/bin/python bench/delivery_latency.py [--events 200] [--burst 2000]

Prints the latency of single events saved one by one (commit to arrival) and the rate of a burst
committed at once, beside the raw rate of POSTs over one kept-alive connection to the same receiver
(the ceiling the delivery rate is held against).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Receiver:
    """Records when each identifier arrived."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                identifier = json.loads(body)["data"]["identifier"]
                with receiver.lock:
                    receiver.arrivals.setdefault(identifier, time.time())
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, identifiers: list[str], timeout: float) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if all(i in self.arrivals for i in identifiers):
                    return
            time.sleep(0.001)
        missing = [i for i in identifiers if i not in self.arrivals]
        raise SystemExit(f"{len(missing)} events did not arrive within {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200, help="single events, saved one by one")
    parser.add_argument("--burst", type=int, default=2000, help="events committed in one transaction")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    redis_port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dialogform_hooks.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or f"bench-only-{secrets.token_urlsafe(48)}",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "INTEGRATIONS_ALLOW_PRIVATE_URLS": "1",
        "INTEGRATIONS_LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    redis_server = subprocess.Popen(
        [shutil.which("redis-server") or "redis-server", "--port", str(redis_port), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    worker = None
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
        import django

        django.setup()
        import requests
        from django.db import transaction

        from accounts.models import Account
        from chats.models import Chat, Flow
        from integrations.models import Delivery, Webhook

        receiver = Receiver()
        account = Account.objects.create(name="Bench")
        Webhook.objects.create(account=account, url=receiver.url)
        flow = Flow.objects.create(account=account, name="Bench flow")
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "rqworker", "webhooks", "-v0"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        time.sleep(2)  # the worker is listening

        # The ceiling: raw POSTs over one kept-alive connection to the same receiver.
        session = requests.Session()
        session.trust_env = False
        raw_count, started = 0, time.perf_counter()
        body = json.dumps({"type": "completed", "data": {"flowId": 1, "identifier": "raw", "score": 1}})
        while time.perf_counter() - started < 2:
            session.post(receiver.url, data=body, headers={"Content-Type": "application/json"})
            raw_count += 1
        raw_rate = raw_count / (time.perf_counter() - started)

        latencies = []
        for number in range(args.events):
            identifier = f"single-{number}"
            chat = Chat(flow=flow, identifier=identifier, status=Chat.Status.COMPLETED, score=number)
            chat.save()
            committed = time.time()
            receiver.wait_for([identifier], timeout=30)
            latencies.append((receiver.arrivals[identifier] - committed) * 1000)

        identifiers = [f"burst-{number}" for number in range(args.burst)]
        with transaction.atomic():
            for identifier in identifiers:
                Chat.objects.create(flow=flow, identifier=identifier, status=Chat.Status.COMPLETED)
        committed = time.time()
        receiver.wait_for(identifiers, timeout=600)
        burst_seconds = max(receiver.arrivals[i] for i in identifiers) - committed
        deadline = time.time() + 60
        while Delivery.objects.exclude(status=Delivery.Status.SUCCEEDED).exists() and time.time() < deadline:
            time.sleep(0.01)  # the last successes are written a moment after they arrive
        recorded_seconds = time.time() - committed
        pending = Delivery.objects.exclude(status=Delivery.Status.SUCCEEDED).count()

        latencies.sort()
        print(f"single events: {args.events}, commit → arrival (ms):")
        print(
            f"  p50 {statistics.median(latencies):.1f}  p95 {latencies[int(len(latencies) * 0.95) - 1]:.1f}"
            f"  max {latencies[-1]:.1f}"
        )
        print(f"burst: {args.burst} events in one transaction, delivered in {burst_seconds:.2f} s")
        print(f"  delivery rate {args.burst / burst_seconds:.0f}/s; raw kept-alive POST rate {raw_rate:.0f}/s")
        ratio = args.burst / burst_seconds / raw_rate
        print(f"  ratio {ratio:.2f}; all recorded as succeeded after {recorded_seconds:.2f} s")
        print(f"  deliveries not succeeded: {pending}")
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
        redis_server.terminate()
        redis_server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
