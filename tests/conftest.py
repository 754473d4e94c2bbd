"""Shared fixtures: a real Redis server, a real RQ worker, and the host product's objects."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rq import SimpleWorker

from accounts.models import Account, Membership
from chats.models import Chat, Flow, Prompt
from integrations.destinations import vetted_forget
from integrations.models import Webhook
from integrations.queue import forget_queue, wakes_sent, webhooks_queue
from integrations.signals import signals_sent
from integrations.testing import free_port, redis_server_start
from tests.helpers import DialogFormObjects, FakeDNS


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A test database in a file, not in memory, so that worker processes can share it."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The suite's own redis-server, on a free port, gone when the suite ends."""
    port = free_port()
    process = redis_server_start(port)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(autouse=True)
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    fake = FakeDNS()
    monkeypatch.setattr("integrations.destinations.resolver", fake)
    vetted_forget()  # what an earlier test's names resolved to is no longer true
    return fake


@pytest.fixture(autouse=True)
def integrations_settings(settings: Any, redis_url: str) -> Iterator[None]:
    """Every test talks to the suite's Redis (emptied first) and may send to loopback receivers."""
    settings.RQ_QUEUES = {"webhooks": {"URL": redis_url, "DEFAULT_TIMEOUT": 120}}
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}}
    settings.INTEGRATIONS_ALLOW_PRIVATE_URLS = True
    settings.INTEGRATIONS_RETRY_JITTER = 0
    # No worker runs beside most tests: "Send test" answers at once instead of waiting for an attempt.
    settings.INTEGRATIONS_TEST_WAIT_SECONDS = 0
    # Hashing passwords properly is slow by design; the suite does not need it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # An earlier test's signals (its e-mails) and wake-ups are not this test's.
    wakes_sent(10)
    forget_queue()
    webhooks_queue().connection.flushdb()
    signals_sent(10)
    yield
    wakes_sent(10)
    forget_queue()
    signals_sent(10)


@pytest.fixture
def redis_down(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache and the queue at a port where nothing listens: Redis is down."""
    from integrations import ratelimits

    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": nowhere}}
    settings.RQ_QUEUES = {"webhooks": {"URL": nowhere}}
    forget_queue()
    monkeypatch.setattr(ratelimits, "_warned_at", {})  # what earlier tests warned about is not this test's


@pytest.fixture
def run_worker() -> Callable[[], None]:
    """Runs a real RQ SimpleWorker in burst mode: it works off the queue, then returns."""

    def run() -> None:
        wakes_sent(10)  # the wake-ups of what the test committed are queued
        queue = webhooks_queue()
        SimpleWorker([queue], connection=queue.connection).work(burst=True, logging_level="WARNING")

    return run


@pytest.fixture
def account(db: None) -> Account:
    return Account.objects.create(name="Acme Learning")


@pytest.fixture
def admin_user(account: Account, django_user_model: Any) -> Any:
    user = django_user_model.objects.create_user(username="ada", password="correct horse battery")
    Membership.objects.create(account=account, user=user, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def flow(account: Account) -> Flow:
    flow = Flow.objects.create(account=account, name="Onboarding quiz")
    Prompt.objects.create(flow=flow, name="capital", text="What is the capital of France?", position=0)
    Prompt.objects.create(flow=flow, name="colour", text="Favourite colour?", position=1)
    return flow


@pytest.fixture
def chat(flow: Flow) -> Chat:
    return Chat.objects.create(flow=flow, identifier="participant-1")


@pytest.fixture
def receiver(httpserver: Any) -> Any:
    """The real loopback HTTP server that plays the customer's endpoint, answering 200 by default."""
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    return httpserver


@pytest.fixture
def webhook(account: Account, receiver: Any) -> Webhook:
    return Webhook.objects.create(account=account, url=receiver.url_for("/hook"))


@pytest.fixture
def host_objects() -> DialogFormObjects:
    """This host's objects, for the app's tests that run on any host (tests/integrations/any_host/)."""
    return DialogFormObjects()
