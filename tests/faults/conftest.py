"""Fixtures of the fault tests: real processes, started and stopped around each test (tests/faults/helpers.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from integrations.queue import forget_queue
from tests.faults.helpers import Processes, Receiver, RedisServer


@pytest.fixture
def own_redis(settings: Any) -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    settings.RQ_QUEUES = {"webhooks": {"URL": server.url, "DEFAULT_TIMEOUT": 120}}
    forget_queue()
    yield server
    forget_queue()
    server.stop()


@pytest.fixture
def fault_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def processes(transactional_db: None, own_redis: RedisServer, tmp_path: Path) -> Iterator[Callable[..., Processes]]:
    """processes(**setting overrides) -> Processes; everything started is stopped after the test."""
    started: list[Processes] = []

    def make(**overrides: Any) -> Processes:
        group = Processes(own_redis.url, tmp_path, overrides)
        started.append(group)
        return group

    yield make
    for group in started:
        group.stop_all()
