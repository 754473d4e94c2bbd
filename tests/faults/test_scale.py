"""Many customers at once, against real worker processes on PostgreSQL (production's database).

- Hanging endpoints (they accept the connection and never answer) cannot delay a healthy account.
- Four worker processes share one database and one Redis: 2,000 deliveries to 20 endpoints all
  arrive, none is lost and none is in flight twice at once.

These run once, in `make test`'s PostgreSQL run: what they measure is the sender's lanes and the
claims under real concurrency, which SQLite (one writer at a time) would only slow down.
"""

from __future__ import annotations

import socket
import statistics
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection

from integrations.models import Webhook
from tests.faults.helpers import (
    Processes,
    Receiver,
    RedisServer,
    assert_each_delivered_once,
    burst,
    report,
    wait_for_workers,
    wait_until_settled,
    webhook_for,
)

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="runs once, in the PostgreSQL run of make test (see module docstring)"
)

# The real patience of the product's settings: a hanging endpoint holds an attempt for 15 s.
PATIENT = {
    "INTEGRATIONS_ATTEMPT_TIMEOUT": 15.0,
    "INTEGRATIONS_CONNECT_TIMEOUT": 5.0,
    "INTEGRATIONS_JOB_MAX_SECONDS": 10.0,
    "INTEGRATIONS_CLAIM_LEASE_SECONDS": 60.0,
    "INTEGRATIONS_BREAKER_COOLDOWN_MIN": 60.0,
}


@pytest.fixture
def hanging_endpoint() -> Iterator[str]:
    """A loopback port whose connections are accepted (by the kernel) and never answered."""
    server = socket.create_server(("127.0.0.1", 0), backlog=2048)
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()


@pytest.mark.parametrize(("hanging", "worst_allowed"), [(3, 2.0), (50, 2.5)])
def test_a_healthy_account_flows_on_beside_hanging_endpoints(
    processes: Callable[..., Processes],
    own_redis: RedisServer,
    fault_receiver: Receiver,
    hanging_endpoint: str,
    hanging: int,
    worst_allowed: float,
) -> None:
    hanging_ids: list[Any] = []
    for number in range(hanging):
        _, flow, webhook = webhook_for(fault_receiver, "/unused", f"Hanging {number}")
        Webhook.objects.filter(pk=webhook.pk).update(url=f"{hanging_endpoint}/hangs-{number}")
        hanging_ids += burst(flow, 10, f"hang-{number}", one_transaction=True)
    _, healthy_flow, _ = webhook_for(fault_receiver, "/healthy", "Healthy Co")
    group = processes(**PATIENT)
    group.worker("worker")
    wait_for_workers(own_redis, 1)

    latencies = []
    for number in range(16):  # 2 events a second for 8 s, committed one by one
        [event_id] = burst(healthy_flow, 1, f"healthy-{number}")
        committed = time.time()
        webhook_id = f"msg_{event_id.hex}"
        while webhook_id not in fault_receiver.succeeded_ids():
            assert time.time() - committed < 20, group.output()
            time.sleep(0.005)
        arrived = next(r.started for r in fault_receiver.requests if r.webhook_id == webhook_id)
        latencies.append(arrived - committed)
        time.sleep(max(0.0, 0.5 - (time.time() - committed)))

    group.kill("worker")  # its hanging attempts would hold a warm shutdown for their whole timeout
    report(
        f"healthy beside {hanging} hanging endpoints",
        f"commit → arrival p50 {statistics.median(latencies) * 1000:.0f} ms, worst {max(latencies) * 1000:.0f} ms",
    )
    assert max(latencies) < worst_allowed, [round(latency, 3) for latency in latencies]


def test_four_workers_share_two_thousand_deliveries_to_twenty_endpoints(
    processes: Callable[..., Processes], own_redis: RedisServer, fault_receiver: Receiver
) -> None:
    flows = [webhook_for(fault_receiver, f"/scale-{n}", f"Scale {n}")[1] for n in range(20)]
    group = processes(INTEGRATIONS_BATCH_SIZE=20)
    for number in range(4):
        group.worker(f"worker-{number}")
    group.sweeper()
    wait_for_workers(own_redis, 4)
    event_ids: list[Any] = []
    for round_number in range(4):  # committed in waves while the workers send
        for index, flow in enumerate(flows):
            event_ids += burst(flow, 25, f"scale-{round_number}-{index}", one_transaction=True)
    assert len(event_ids) == 2000
    wait_until_settled(event_ids, timeout=180, processes=group)
    assert_each_delivered_once("four workers, twenty endpoints", event_ids, fault_receiver)
