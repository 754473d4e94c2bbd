"""The delivery benchmarks, side by side in one run, written to docs/performance.md.

    .venv/bin/python bench/run.py [--tiny] [--write docs/performance.md]

Real parts only: a redis-server of its own, a temporary SQLite database (or DATABASE_URL, e.g.
under bin/with-postgres), the Procfile's worker command (`python manage.py rqworker webhooks
--with-scheduler`) in separate processes, and bench/receiver.py on 127.0.0.1. Nothing leaves
this machine.

Measured in the same run, so that ratios hold on a noisy shared machine:
- the ceiling: a raw `requests.Session` loop and a raw `urllib3` loop to the same receiver;
- the drain rate of a backlog, by 1 and 2 worker processes, to 1 and to 20 endpoints;
- the request-path cost of completing a chat, with and without a webhook;
- commit → arrival at a steady 50 and 200 events/s;
- commit → arrival of a healthy account beside 3 and beside 50 hanging endpoints;
- the peak RSS of the workers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


@dataclass
class Size:
    raw_seconds: float
    backlog: int
    path_saves: int
    steady_seconds: float
    isolation_seconds: float
    # The latency mix: endpoints, each on a loopback host of its own, and deliveries by answer time (ms).
    mix_endpoints: int
    mix: dict[int, int]
    # Slow endpoints (answering in 2 s, 10 deliveries each) beside a healthy account; endpoints answering
    # in 3 s with 4 deliveries each, all in flight at once.
    slow_endpoints: int
    in_flight_endpoints: int


FULL = Size(
    raw_seconds=3,
    backlog=10_000,
    path_saves=400,
    steady_seconds=10,
    isolation_seconds=20,
    mix_endpoints=100,
    mix={50: 4000, 300: 2000},
    slow_endpoints=200,
    in_flight_endpoints=250,
)
TINY = Size(
    raw_seconds=0.3,
    backlog=200,
    path_saves=20,
    steady_seconds=1,
    isolation_seconds=2,
    mix_endpoints=5,
    mix={50: 40, 300: 20},
    slow_endpoints=5,
    in_flight_endpoints=5,
)
# The event-loop baseline's window: attempts in flight at once to one endpoint.
MIX_WINDOW = 4


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise SystemExit(f"nothing listens on port {port}")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


@dataclass
class Results:
    rows: list[tuple[str, str, str]] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, value: str, note: str = "") -> None:
        self.rows.append((name, value, note))
        print(f"{name:<58} {value:>22}  {note}", flush=True)


class Bench:
    def __init__(self, size: Size, workdir: Path) -> None:
        self.size = size
        self.workdir = workdir
        self.redis_port = free_port()
        self.receiver_port = free_port()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "dialogform_hooks.settings",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or f"bench-only-{secrets.token_urlsafe(48)}",
            "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'db.sqlite3'}",
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "INTEGRATIONS_ALLOW_PRIVATE_URLS": "1",
            "INTEGRATIONS_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        self.processes: list[subprocess.Popen[bytes]] = []
        self.results = Results()
        self.url = f"http://127.0.0.1:{self.receiver_port}"

    # --- the parts -------------------------------------------------------------------------

    def start(self) -> None:
        os.environ.update(self.env)
        redis = shutil.which("redis-server") or "redis-server"
        self.processes.append(
            subprocess.Popen(
                [redis, "--port", str(self.redis_port), "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
            )
        )
        self.processes.append(
            subprocess.Popen(
                [sys.executable, str(ROOT / "bench/receiver.py"), str(self.receiver_port), str(self.size.mix_endpoints)]
            )
        )
        wait_for_port(self.redis_port)
        wait_for_port(self.receiver_port)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=self.env, check=True)
        import django

        django.setup()

    def stop(self) -> None:
        for process in self.processes:
            process.kill()
            process.wait()

    @contextmanager
    def workers(self, count: int, *, warm_stop: bool = True) -> Iterator[list[subprocess.Popen[bytes]]]:
        """`count` workers as the Procfile starts them; stopped after (killed when their sends hang)."""
        started = [
            subprocess.Popen(
                [
                    sys.executable,
                    "manage.py",
                    "rqworker",
                    "webhooks",
                    "--with-scheduler",
                    "--name",
                    f"bench-{n}-{time.time_ns()}",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=(self.workdir / f"worker-{n}.log").open("ab"),
                start_new_session=True,  # its scheduler child goes with it
            )
            for n in range(count)
        ]
        try:
            yield started
        finally:
            for process in started:
                os.killpg(process.pid, signal.SIGTERM if warm_stop else signal.SIGKILL)
            for process in started:
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            for process in started:
                # Left by a killed worker's scheduler child, if any.
                subprocess.run(["pkill", "-KILL", "-g", str(process.pid)], check=False)
            self.redis().flushall()

    def redis(self) -> Any:
        import redis

        return redis.Redis(port=self.redis_port)

    def arrivals(self) -> dict[str, float]:
        import urllib3

        answer: dict[str, float] = json.loads(urllib3.request("GET", f"{self.url}/arrivals").data)
        return answer

    def reset(self) -> None:
        import urllib3

        urllib3.request("GET", f"{self.url}/reset")

    def wait_for(self, identifiers: list[str], timeout: float) -> dict[str, float]:
        """The arrival times of these notifications, once all arrived (polling the receiver's count: it is cheap)."""
        import urllib3

        deadline = time.time() + timeout
        while True:
            if int(urllib3.request("GET", f"{self.url}/count").data) >= len(identifiers):
                arrived = self.arrivals()
                missing = [i for i in identifiers if i not in arrived]
                if not missing:
                    return arrived
            if time.time() > deadline:
                arrived = self.arrivals()
                missing = [i for i in identifiers if i not in arrived]
                raise SystemExit(f"{len(missing)} of {len(identifiers)} notifications did not arrive in {timeout} s")
            time.sleep(0.1)

    def account(self, name: str, url: str | None) -> Any:
        from accounts.models import Account
        from chats.models import Flow
        from integrations.models import Webhook

        account = Account.objects.create(name=name)
        if url is not None:
            Webhook.objects.create(account=account, url=url)
        return Flow.objects.create(account=account, name=f"{name} flow")

    def complete(self, flow: Any, identifiers: list[str]) -> None:
        from django.db import transaction

        from chats.models import Chat

        with transaction.atomic():
            for identifier in identifiers:
                Chat.objects.create(flow=flow, identifier=identifier, status=Chat.Status.COMPLETED, score=1)

    def complete_many(self, flows: list[Any], identifiers: list[str]) -> None:
        """Complete the identifiers' chats in one transaction, spread over the flows in turn."""
        from django.db import transaction

        from chats.models import Chat

        per_flow = len(identifiers) // len(flows)
        with transaction.atomic():
            for number, identifier in enumerate(identifiers):
                flow = flows[min(number // per_flow, len(flows) - 1)]
                Chat.objects.create(flow=flow, identifier=identifier, status=Chat.Status.COMPLETED, score=1)

    # --- the scenarios -----------------------------------------------------------------------

    def raw_rates(self) -> tuple[float, float]:
        """POST/s of a kept-alive `requests.Session` loop and of a bare `urllib3` loop, to the same receiver."""
        import requests
        import urllib3

        body = json.dumps({"type": "completed", "data": {"flowId": 1, "identifier": "raw", "score": 1}}).encode()
        headers = {"Content-Type": "application/json", "webhook-id": "msg_raw"}

        def rate(post: Callable[[], Any]) -> float:
            count, started = 0, time.perf_counter()
            while time.perf_counter() - started < self.size.raw_seconds:
                post()
                count += 1
            return count / (time.perf_counter() - started)

        session = requests.Session()
        session.trust_env = False
        with_requests = rate(lambda: session.post(f"{self.url}/raw", data=body, headers=headers))
        pool = urllib3.HTTPConnectionPool("127.0.0.1", self.receiver_port, maxsize=1)
        return with_requests, rate(lambda: pool.urlopen("POST", "/raw", body=body, headers=headers))

    def raw_loops(self) -> None:
        self.results.figures["requests"], self.results.figures["urllib3"] = self.raw_rates()
        self.results.add("raw requests.Session loop (kept alive)", f"{self.results.figures['requests']:,.0f} POST/s")
        self.results.add("raw urllib3 loop (kept alive)", f"{self.results.figures['urllib3']:,.0f} POST/s")

    def drain(self, *, processes: int, endpoints: int) -> None:
        """A backlog committed while no worker runs, then drained: first arrival to last arrival.

        Its baselines are the raw loops measured just before and just after it (their mean): this
        machine's speed drifts over a run by more than the differences measured.
        """
        from integrations.models import Delivery

        self.reset()
        tag = f"drain-{processes}p-{endpoints}e-{time.time_ns()}"
        per_endpoint = self.size.backlog // endpoints
        identifiers = []
        for number in range(endpoints):
            flow = self.account(f"{tag}-{number}", f"{self.url}/{tag}/{number}")
            batch = [f"{tag}-{number}-{n}" for n in range(per_endpoint)]
            self.complete(flow, batch)
            identifiers += batch
        before = self.raw_rates()
        with self.workers(processes) as started:
            arrived = self.wait_for(identifiers, timeout=600)
            while Delivery.objects.filter(
                event__account__name__startswith=tag, status=Delivery.Status.PENDING
            ).exists():
                time.sleep(0.05)  # the last successes are recorded a moment after they arrive
            rss = sum(peak_rss_mb(process.pid) for process in started)
        after = self.raw_rates()
        with_requests, with_urllib3 = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2
        times = [arrived[i] for i in identifiers]
        rate = len(identifiers) / (max(times) - min(times))
        key = f"drain-{processes}-{endpoints}"
        self.results.figures[key] = rate
        self.results.figures[f"{key}-requests"] = rate / with_requests
        self.results.figures[f"{key}-urllib3"] = rate / with_urllib3
        self.results.figures[f"rss-{processes}-{endpoints}"] = rss
        self.results.add(
            f"drain {len(identifiers):,} deliveries: {processes} worker{'s' if processes > 1 else ''}, "
            f"{endpoints} endpoint{'s' if endpoints > 1 else ''}",
            f"{rate:,.0f} deliveries/s",
            f"{rate / with_requests:.2f}x requests loop ({with_requests:,.0f}/s), "
            f"{rate / with_urllib3:.2f}x urllib3 ({with_urllib3:,.0f}/s), measured just before and after; "
            f"workers' peak RSS {rss:.0f} MB",
        )

    def mix_baseline(self, latency_ms: int, count: int) -> float:
        """An aiohttp client holding MIX_WINDOW in flight per endpoint, to the same receivers: deliveries/s."""
        import asyncio

        import aiohttp

        endpoints = self.size.mix_endpoints
        body = json.dumps({"type": "completed", "data": {"flowId": 1, "identifier": "base", "score": 1}}).encode()

        async def run() -> float:
            connector = aiohttp.TCPConnector(limit=0, limit_per_host=MIX_WINDOW)
            async with aiohttp.ClientSession(connector=connector) as session:

                async def lane(endpoint: int, sends: int) -> None:
                    url = f"http://127.0.0.{2 + endpoint}:{self.receiver_port}/delay/{latency_ms}/base"
                    for number in range(sends):
                        headers = {"Content-Type": "application/json", "webhook-id": f"msg_base_{endpoint}_{number}"}
                        async with session.post(url, data=body, headers=headers) as answer:
                            await answer.read()

                per_lane = count // endpoints // MIX_WINDOW
                started = time.perf_counter()
                await asyncio.gather(
                    *(lane(endpoint, per_lane) for endpoint in range(endpoints) for _ in range(MIX_WINDOW))
                )
                return per_lane * endpoints * MIX_WINDOW / (time.perf_counter() - started)

        return asyncio.run(run())

    def latency_mix(self, latency_ms: int, count: int) -> None:
        """Receivers that answer after `latency_ms`, each endpoint on a loopback host of its own: one worker
        draining a backlog spread over them, beside the event-loop baseline in the same run; and the
        worker's CPU per delivery. Each endpoint has answered one notification before (as endpoints in
        production have), so its window is open from the start, as the baseline's is.
        """
        from integrations.models import Delivery

        self.reset()
        baseline = self.mix_baseline(latency_ms, count)
        self.reset()
        tag = f"mix-{latency_ms}-{time.time_ns()}"
        endpoints = self.size.mix_endpoints
        hosts = [f"http://127.0.0.{2 + number}:{self.receiver_port}" for number in range(endpoints)]
        flows = [self.account(f"{tag}-{n}", f"{host}/delay/{latency_ms}/{tag}") for n, host in enumerate(hosts)]
        identifiers = [f"{tag}-{number}-{n}" for number in range(endpoints) for n in range(count // endpoints)]
        warm = [f"{tag}-{number}-warm" for number in range(endpoints)]
        with self.workers(1) as started:
            time.sleep(2)  # listening: its start-up is neither the drain nor its CPU
            # One notification each first: endpoints in production have answered before (an endpoint
            # never seen to answer is sent one attempt first, which this measures apart from the drain).
            self.complete_many(flows, warm)
            self.wait_for(warm, timeout=60)
            while Delivery.objects.filter(
                event__account__name__startswith=tag, status=Delivery.Status.PENDING
            ).exists():
                time.sleep(0.05)
            cpu_before = cpu_seconds(started[0].pid)
            self.complete_many(flows, identifiers)  # one transaction: every endpoint due at once
            arrived = self.wait_for(identifiers, timeout=600)
            while Delivery.objects.filter(
                event__account__name__startswith=tag, status=Delivery.Status.PENDING
            ).exists():
                time.sleep(0.05)
            cpu = cpu_seconds(started[0].pid) - cpu_before
        times = [arrived[i] for i in identifiers]
        rate = len(identifiers) / (max(times) - min(times))
        cpu_ms = cpu * 1000 / len(identifiers)
        self.results.figures[f"mix-{latency_ms}"] = rate / baseline
        self.results.figures[f"mix-cpu-{latency_ms}"] = cpu_ms
        self.results.add(
            f"latency mix {latency_ms} ms: aiohttp, window {MIX_WINDOW} per endpoint",
            f"{baseline:,.0f} deliveries/s",
            f"{endpoints} endpoints on their own loopback hosts",
        )
        self.results.add(
            f"latency mix {latency_ms} ms: one worker, {len(identifiers):,} deliveries",
            f"{rate:,.0f} deliveries/s",
            f"{rate / baseline:.2f}x the event loop; worker CPU {cpu_ms:.2f} ms per delivery",
        )

    def request_path(self) -> None:
        """What completing a chat costs the request that does it, with and without a webhook.

        No worker runs meanwhile: on SQLite its writes would queue with the request's own and
        measure the database's single writer, not this path. "With a webhook" queues the webhook's
        job for real on every save (the "queued" flag is cleared first, as a worker taking the job
        does). The job is queued by the process's waking thread once the save has committed: the
        request waits for none of it. Each save is timed alone (the previous wake-up has reached
        Redis), and the process's CPU for the save and its wake-up is given beside it.
        """
        from chats.models import Chat
        from integrations.queue import wakes_sent, webhook_job_started

        waited: dict[str, list[float]] = {}
        cpu: dict[str, list[float]] = {}
        variants = (("without a webhook", None), ("with a webhook", f"{self.url}/path"))
        flows = {label: self.account(f"path-{label}-{time.time_ns()}", url) for label, url in variants}
        webhooks = {label: flow.account.webhooks.first() for label, flow in flows.items()}
        for number in range(self.size.path_saves):
            # The two in turn, so that both meet the same moments of a noisy machine.
            for label, flow in flows.items():
                webhook = webhooks[label]
                chat = Chat.objects.create(flow=flow, identifier=f"path-{label}-{number}")
                chat.status = Chat.Status.COMPLETED
                chat.score = 3
                if webhook is not None:
                    webhook_job_started(webhook_id=webhook.pk)
                started, started_cpu = time.perf_counter(), time.process_time()
                chat.save()  # the completion's own transaction: outbox rows; the job queued after commit
                waited.setdefault(label, []).append((time.perf_counter() - started) * 1000)
                wakes_sent()
                cpu.setdefault(label, []).append((time.process_time() - started_cpu) * 1000)  # all its threads
        self.redis().flushall()
        without = statistics.median(waited["without a webhook"])
        without_cpu = statistics.median(cpu["without a webhook"])
        self.results.add(
            "completing a chat, median: without a webhook", f"{without:.2f} ms", f"process CPU {without_cpu:.2f} ms"
        )
        cost, cost_cpu = statistics.median(waited["with a webhook"]), statistics.median(cpu["with a webhook"])
        self.results.add(
            "completing a chat, median: with a webhook",
            f"{cost:.2f} ms",
            f"+{cost - without:.2f} ms; process CPU {cost_cpu:.2f} ms (+{cost_cpu - without_cpu:.2f} ms with the "
            "job queued by the waking thread)",
        )
        self.results.figures["path"] = cost - without

    def paced(self, flow: Any, rate: float, seconds: float, prefix: str) -> tuple[list[str], dict[str, float]]:
        """Complete one chat at a time at `rate` a second; returns the identifiers and their commit times."""
        from chats.models import Chat

        committed: dict[str, float] = {}
        identifiers = []
        started = time.time()
        for number in range(round(rate * seconds)):
            wait = started + number / rate - time.time()
            if wait > 0:
                time.sleep(wait)
            identifier = f"{prefix}-{number}"
            Chat.objects.create(flow=flow, identifier=identifier, status=Chat.Status.COMPLETED, score=1)
            committed[identifier] = time.time()
            identifiers.append(identifier)
        return identifiers, committed

    def latency_row(self, name: str, identifiers: list[str], committed: dict[str, float], key: str) -> None:
        arrived = self.wait_for(identifiers, timeout=120)
        latencies = [(arrived[i] - committed[i]) * 1000 for i in identifiers]
        p50, p95, p99 = (percentile(latencies, f) for f in (0.5, 0.95, 0.99))
        self.results.figures[key] = p99
        self.results.add(name, f"p50 {p50:,.0f} · p95 {p95:,.0f} · p99 {p99:,.0f} ms", f"{len(latencies)} events")

    def steady(self, rate: float) -> None:
        self.reset()
        flow = self.account(f"steady-{rate}-{time.time_ns()}", f"{self.url}/steady")
        with self.workers(1):
            time.sleep(2)  # listening
            identifiers, committed = self.paced(flow, rate, self.size.steady_seconds, f"steady-{rate}")
            achieved = len(identifiers) / (max(committed.values()) - min(committed.values()) + 1 / rate)
            self.latency_row(
                f"commit → arrival at {rate:.0f} events/s (achieved {achieved:.0f}/s)",
                identifiers,
                committed,
                f"steady-{rate:.0f}",
            )

    def beside_hanging(self, hanging: int) -> None:
        """Hanging endpoints with 10 deliveries queued each; meanwhile a healthy account, 2 events a second."""
        self.reset()
        tag = f"hang-{hanging}-{time.time_ns()}"
        healthy = self.account(f"{tag}-healthy", f"{self.url}/healthy")
        with self.workers(1, warm_stop=False):
            time.sleep(2)  # listening
            for number in range(hanging):
                self.complete(
                    self.account(f"{tag}-{number}", f"{self.url}/hang/{number}"),
                    [f"{tag}-{number}-{n}" for n in range(10)],
                )
            identifiers, committed = self.paced(healthy, 2, self.size.isolation_seconds, f"{tag}-healthy")
            self.latency_row(
                f"healthy account beside {hanging} hanging endpoints (10 deliveries each)",
                identifiers,
                committed,
                f"hanging-{hanging}",
            )

    def warm_up(self, flows: list[Any], tag: str) -> None:
        """One notification to each endpoint, answered: they have succeeded before, as endpoints in production have."""
        from integrations.models import Delivery

        warm = [f"{tag}-{number}-warm" for number in range(len(flows))]
        self.complete_many(flows, warm)
        self.wait_for(warm, timeout=120)
        while Delivery.objects.filter(event__account__name__startswith=tag, status=Delivery.Status.PENDING).exists():
            time.sleep(0.05)

    def beside_slow(self, slow: int, latency_ms: int = 2000, each: int = 10) -> None:
        """Endpoints answering every attempt after `latency_ms` (slow, not failing), `each` deliveries queued
        for each; meanwhile a healthy account, 2 events a second. How fast the healthy account's arrive, and
        how fast each slow endpoint is served, against its window ÷ its latency."""
        from integrations.models import DeliveryAttempt

        self.reset()
        tag = f"slow-{slow}-{time.time_ns()}"
        healthy = self.account(f"{tag}-healthy", f"{self.url}/healthy")
        flows = [self.account(f"{tag}-{n}", f"{self.url}/delay/{latency_ms}/{tag}-{n}") for n in range(slow)]
        with self.workers(1) as started:
            time.sleep(2)  # listening
            self.warm_up(flows, tag)
            since = time.time()
            self.complete_many(flows, [f"{tag}-{n}-{i}" for n in range(slow) for i in range(each)])
            identifiers, committed = self.paced(healthy, 2, self.size.isolation_seconds, f"{tag}-healthy")
            self.latency_row(
                f"healthy account beside {slow} slow endpoints ({latency_ms / 1000:g} s, {each} deliveries each)",
                identifiers,
                committed,
                "slow",
            )
            self.wait_for([f"{tag}-{n}-{i}" for n in range(slow) for i in range(each)], timeout=300)
            time.sleep(latency_ms / 1000 + 1)  # the last answers, recorded
            rss = peak_rss_mb(started[0].pid)
        attempts = DeliveryAttempt.objects.filter(
            delivery__event__account__name__startswith=tag, attempted_at__gte=datetime_of(since)
        ).exclude(delivery__event__account__name=f"{tag}-healthy")
        served = served_per_endpoint(
            (
                (webhook_id, at.timestamp(), at.timestamp() + duration / 1000)
                for webhook_id, at, duration in attempts.values_list(
                    "delivery__webhook_id", "attempted_at", "duration_ms"
                )
            ),
            latency_ms,
        )
        base = self.slow_baseline(slow, latency_ms, each)
        self.results.figures["slow-served"] = served[0]
        self.results.figures["slow-served-base"] = base[0]
        self.results.add(
            f"{slow} slow endpoints served, each ÷ window {MIX_WINDOW} per {latency_ms / 1000:g} s: aiohttp",
            f"min {base[0]:.2f} · median {base[len(base) // 2]:.2f}",
            f"the most {each} deliveries in rounds of {MIX_WINDOW} allow: {best_served(each, latency_ms):.2f}",
        )
        self.results.add(
            f"{slow} slow endpoints served, each ÷ window {MIX_WINDOW} per {latency_ms / 1000:g} s: one worker",
            f"min {served[0]:.2f} · median {served[len(served) // 2]:.2f}",
            f"{served[0] / base[0]:.2f}x the event loop's least; worker's peak RSS {rss:.0f} MB",
        )

    def slow_baseline(self, slow: int, latency_ms: int, each: int) -> list[float]:
        """An aiohttp client holding MIX_WINDOW in flight per endpoint, to the same slow receivers, each endpoint
        answered once before (one kept-alive connection, as the worker's warm-up leaves): how fast each is served."""
        import asyncio

        import aiohttp

        body = json.dumps({"type": "completed", "data": {"flowId": 1, "identifier": "base", "score": 1}}).encode()

        async def run() -> list[tuple[int, float, float]]:
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=connector) as session:

                async def post(endpoint: int) -> tuple[int, float, float]:
                    started = time.time()
                    url = f"{self.url}/delay/{latency_ms}/base-{endpoint}"
                    async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as answer:
                        await answer.read()
                    return endpoint, started, time.time()

                await asyncio.gather(*(post(endpoint) for endpoint in range(slow)))
                windows = [asyncio.Semaphore(MIX_WINDOW) for _ in range(slow)]

                async def in_window(endpoint: int) -> tuple[int, float, float]:
                    async with windows[endpoint]:
                        return await post(endpoint)

                return await asyncio.gather(*(in_window(endpoint) for endpoint in range(slow) for _ in range(each)))

        return served_per_endpoint(asyncio.run(run()), latency_ms)

    def in_flight(self, endpoints: int, latency_ms: int = 3000) -> None:
        """Endpoints answering after `latency_ms`, MIX_WINDOW deliveries each, all sent at once: the attempts in
        flight at the peak (from the attempts' own times) and the worker's peak RSS."""
        from integrations.models import DeliveryAttempt

        self.reset()
        tag = f"inflight-{endpoints}-{time.time_ns()}"
        flows = [self.account(f"{tag}-{n}", f"{self.url}/delay/{latency_ms}/{tag}-{n}") for n in range(endpoints)]
        identifiers = [f"{tag}-{n}-{i}" for n in range(endpoints) for i in range(MIX_WINDOW)]
        with self.workers(1) as started:
            time.sleep(2)  # listening
            self.warm_up(flows, tag)
            since = time.time()
            self.complete_many(flows, identifiers)
            self.wait_for(identifiers, timeout=300)
            time.sleep(latency_ms / 1000 + 1)
            rss = peak_rss_mb(started[0].pid)
        moments = []
        attempts = DeliveryAttempt.objects.filter(
            delivery__event__account__name__startswith=tag, attempted_at__gte=datetime_of(since)
        )
        for at, duration in attempts.values_list("attempted_at", "duration_ms"):
            moments += [(at.timestamp(), 1), (at.timestamp() + duration / 1000, -1)]
        peak = current = 0
        for _, change in sorted(moments):
            current += change
            peak = max(peak, current)
        self.results.figures["in-flight"] = peak
        self.results.figures["rss-in-flight"] = rss
        self.results.add(
            f"{len(identifiers):,} attempts to {endpoints} endpoints answering in {latency_ms / 1000:g} s",
            f"{peak:,} in flight at once",
            f"worker's peak RSS {rss:.0f} MB",
        )


def served_per_endpoint(attempts: Iterable[tuple[int, float, float]], latency_ms: int) -> list[float]:
    """Each endpoint's attempts (endpoint, start, end) over the time from its first start to its last answer,
    ÷ its window ÷ its latency; sorted, the least first."""
    spans: dict[int, list[float]] = {}
    for endpoint, start, end in attempts:
        span = spans.setdefault(endpoint, [start, end, 0])
        span[0], span[1], span[2] = min(span[0], start), max(span[1], end), span[2] + 1
    best = MIX_WINDOW / (latency_ms / 1000)
    return sorted(count / (end - start) / best for start, end, count in spans.values())


def best_served(each: int, latency_ms: int) -> float:
    """What `each` deliveries can reach at best: they go in rounds of the window, the last one maybe not full."""
    rounds = -(-each // MIX_WINDOW)
    return each / (rounds * latency_ms / 1000) / (MIX_WINDOW / (latency_ms / 1000))


def datetime_of(moment: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(moment, tz=UTC)


def cpu_seconds(pid: int) -> float:
    """User and system CPU a process and its children (the scheduler) have used so far."""
    total = 0.0
    for candidate in [pid, *children(pid)]:
        try:
            fields = Path(f"/proc/{candidate}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory of a process (VmHWM), with its children (the scheduler)."""
    total = 0.0
    for candidate in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{candidate}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


def children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    database = "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "SQLite (WAL)"
    return (
        f"{os.cpu_count()} CPU cores ({cpu}), {memory_kb / 1024 / 1024:.0f} GiB RAM, Linux {platform.release()}, "
        f"Python {platform.python_version()}, {database}, redis-server {redis_version()}"
    )


def redis_version() -> str:
    output = subprocess.run(
        [shutil.which("redis-server") or "redis-server", "--version"], capture_output=True, text=True
    ).stdout
    return next((part.split("=")[1] for part in output.split() if part.startswith("v=")), "?")


TARGETS: list[tuple[str, Callable[[dict[str, float]], float], str, Callable[[float], bool]]] = [
    ("one worker, 1 endpoint ÷ requests loop", lambda f: f["drain-1-1-requests"], "≥ 1.0x", lambda v: v >= 1.0),
    (
        "one worker, 1 endpoint ÷ urllib3 loop (aim)",
        lambda f: f["drain-1-1-urllib3"],
        "≥ 0.5x",
        lambda v: v >= 0.5,
    ),
    ("2 workers ÷ 1 worker, 20 endpoints", lambda f: f["drain-2-20"] / f["drain-1-20"], "≥ 1.6x", lambda v: v >= 1.6),
    ("request path: added by a webhook (ms)", lambda f: f["path"], "≤ +1.0 ms", lambda v: v <= 1.0),
    ("latency mix 50 ms: one worker ÷ event loop", lambda f: f["mix-50"], "≥ 0.5x", lambda v: v >= 0.5),
    ("latency mix 300 ms: one worker ÷ event loop", lambda f: f["mix-300"], "≥ 0.9x", lambda v: v >= 0.9),
    ("latency mix 50 ms: worker CPU per delivery (ms)", lambda f: f["mix-cpu-50"], "≤ 0.5 ms", lambda v: v <= 0.5),
    ("p99 beside 3 hanging endpoints (ms)", lambda f: f["hanging-3"], "≤ 1,000 ms", lambda v: v <= 1000),
    ("p99 beside 50 hanging endpoints (ms)", lambda f: f["hanging-50"], "≤ 2,000 ms", lambda v: v <= 2000),
    ("p99 beside 200 slow endpoints (ms)", lambda f: f["slow"], "≤ 2,000 ms", lambda v: v <= 2000),
    (
        "slow endpoints served ÷ window per latency (the least)",
        lambda f: f["slow-served"],
        "≥ 0.8",
        lambda v: v >= 0.8,
    ),
    ("attempts in flight at once in one worker", lambda f: f["in-flight"], "≥ 1,000", lambda v: v >= 1000),
    ("worker's peak RSS with those in flight (MB)", lambda f: f["rss-in-flight"], "≤ 300 MB", lambda v: v <= 300),
    (
        "workers' peak RSS draining the backlog (MB)",
        lambda f: max(v for k, v in f.items() if k.startswith("rss-2")),
        "≤ 300 MB",
        lambda v: v <= 300,
    ),
]


def report(results: Results, size: Size, tiny: bool) -> str:
    lines = [
        "| Measurement | Result | Beside it |",
        "|---|---|---|",
        *(f"| {name} | {value} | {note} |" for name, value, note in results.rows),
    ]
    targets = ["| Target | Measured | Goal | |", "|---|---|---|---|"]
    for name, figure, goal, met in TARGETS:
        value = figure(results.figures)
        targets.append(f"| {name} | {value:,.2f} | {goal} | {'met' if met(value) else '**missed**'} |")
    return "\n".join(
        [
            f"Measured on {time.strftime('%Y-%m-%d')}: {machine()}."
            + (" **Tiny run (CI's check that the benchmark still works): the figures mean nothing.**" if tiny else ""),
            "",
            *lines,
            "",
            *targets,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="a few seconds in all: checks the benchmark runs")
    parser.add_argument("--write", type=Path, help="put the table into this Markdown file, between its markers")
    parser.add_argument("--backlog", type=int, help="deliveries in each drain (default: 10,000; tiny: 200)")
    parser.add_argument(
        "--only",
        choices=["drain", "path", "mix", "isolation", "scale"],
        help="only the raw loops and one part (while tuning); scale: the pages with history on record (alone)",
    )
    parser.add_argument(
        "--scale-sizes",
        default="10000,1000000",
        help="with --only scale: deliveries on record to time the pages at, comma-separated (tiny: 1000)",
    )
    args = parser.parse_args()
    size = TINY if args.tiny else FULL
    if args.backlog:
        size.backlog = args.backlog
    workdir = Path(tempfile.mkdtemp(prefix="bench-"))
    bench = Bench(size, workdir)
    if args.only == "scale":
        scale_run(bench, [1000] if args.tiny else [int(size) for size in args.scale_sizes.split(",")], args.write)
        return
    try:
        bench.start()
        bench.raw_loops()
        if args.only in (None, "path"):
            bench.request_path()
        for processes, endpoints in ((1, 1), (2, 1), (1, 20), (2, 20)):
            if args.only in (None, "drain"):
                bench.drain(processes=processes, endpoints=endpoints)
        if args.only in (None, "mix"):
            for latency_ms, count in bench.size.mix.items():
                bench.latency_mix(latency_ms, count)
        if args.only is None:
            for rate in (50, 200):
                bench.steady(rate)
            for hanging in (3, 50):
                bench.beside_hanging(hanging)
        if args.only in (None, "isolation"):
            bench.beside_slow(bench.size.slow_endpoints)
            bench.in_flight(bench.size.in_flight_endpoints)
    finally:
        bench.stop()
    if args.only:
        return
    table = report(bench.results, size, args.tiny)
    print("\n" + table)
    if args.write:
        text = args.write.read_text()
        begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        args.write.write_text(f"{head}{begin}\n{table}\n{end}{tail}")
    shutil.rmtree(workdir, ignore_errors=True)


def scale_run(bench: Bench, sizes: list[int], write: Path | None) -> None:
    """The pages with history on record (bench/scale.py): a table of its own, between the scale markers."""
    from bench.scale import migration, pruning, scale

    try:
        bench.start()
        scale(bench.results.add, sizes)
        from django.db import connection

        if connection.vendor == "postgresql":  # SQLite has one writer: a writer beside it would only wait
            migration(bench, bench.results.add)
        pruning(bench, bench.results.add, seconds=bench.size.isolation_seconds)
    finally:
        bench.stop()
    lines = [
        f"Measured on {time.strftime('%Y-%m-%d')}: {machine()}, {os.environ.get('DATABASE_URL', 'SQLite')[:8]}….",
        "",
        "| Request | Median of 7 | Beside it |",
        "|---|---|---|",
        *(f"| {name} | {value} | {note} |" for name, value, note in bench.results.rows),
    ]
    print("\n" + "\n".join(lines))
    if write:
        text = write.read_text()
        begin, end = "<!-- scale:begin -->", "<!-- scale:end -->"
        if begin in text:
            head, _, rest = text.partition(begin)
            _, _, tail = rest.partition(end)
            write.write_text(f"{head}{begin}\n" + "\n".join(lines) + f"\n{end}{tail}")


if __name__ == "__main__":
    main()
