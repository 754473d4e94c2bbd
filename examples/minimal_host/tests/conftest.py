"""Fixtures of the example host's tests (helpers in tests/helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from integrations.queue import forget_queue, webhooks_queue
from integrations.testing import free_port, redis_server_start
from tests.helpers import SurveysObjects


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A test database in a file, so that the worker's sending threads share it."""
    from django.conf import settings

    settings.DATABASES["default"].setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    port = free_port()
    process = redis_server_start(port)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(autouse=True)
def host_settings(settings: Any, redis_url: str) -> Iterator[None]:
    """The tests' own Redis, and webhooks allowed to reach the loopback receiver."""
    settings.RQ_QUEUES = {"webhooks": {"URL": redis_url}}
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}}
    settings.INTEGRATIONS_ALLOW_PRIVATE_URLS = True
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    forget_queue()
    webhooks_queue().connection.flushdb()
    yield
    forget_queue()


@pytest.fixture
def host_objects() -> SurveysObjects:
    """This project's objects, for the app's tests that run on any host (copied in by bin/test-example)."""
    return SurveysObjects()
