"""Shared fixtures: a real Redis server, a real RQ worker, and the host's objects.

The suite runs on two hosts, one per pytest run (make test runs both):
- the app's own test host (`--ds=tests.testhost.settings`): tests/integrations/, the app's tests;
- DialogForm (`tests.settings`, the default): tests/host/, tests/faults/, tests/browser/, and the app's
  tests that run on any host (tests/integrations/any_host/), on DialogForm's notifications too.
Each run leaves out the other's directories, and says so at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils.module_loading import import_string
from rq import SimpleWorker

from integrations.destinations import vetted_forget
from integrations.models import Webhook
from integrations.queue import forget_queue, wakes_sent, webhooks_queue
from integrations.signals import signals_sent
from integrations.testing import HostObjects, free_port, redis_server_start
from tests.helpers import FakeDNS

TESTS = Path(__file__).resolve().parent
APP_TESTS, ANY_HOST = TESTS / "integrations", TESTS / "integrations" / "any_host"
DIALOGFORM_TESTS = (TESTS / "host", TESTS / "faults", TESTS / "browser")
LEFT_OUT = pytest.StashKey[set[str]]()


def on_test_host() -> bool:
    return bool(django_settings.INTEGRATIONS_ADAPTER.startswith("tests.testhost."))


def _other_hosts(path: Path) -> Path | None:
    """The directory of the other host's tests that `path` is in, if it is."""
    if on_test_host():
        return next((root for root in DIALOGFORM_TESTS if path == root or root in path.parents), None)
    # On DialogForm: the app's tests but any_host/ (and the conftest above it).
    if APP_TESTS in path.parents and path not in (ANY_HOST, APP_TESTS / "conftest.py") and ANY_HOST not in path.parents:
        return APP_TESTS
    return None


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """The other host's tests are left out of this run, and named at its end."""
    root = _other_hosts(collection_path.resolve())
    if root is None:
        return None
    if collection_path.suffix == ".py" or (collection_path.is_dir() and not collection_path.name.startswith("__")):
        config.stash.setdefault(LEFT_OUT, set()).add(str(root.relative_to(TESTS.parent)))
    return True


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test of the other host named on the command line: say how to run it, rather than run it on this one."""
    wrong = sorted({str(item.path.relative_to(TESTS.parent)) for item in items if _other_hosts(item.path.resolve())})
    if wrong:
        settings = "the default settings (DialogForm's)" if on_test_host() else "--ds=tests.testhost.settings"
        raise pytest.UsageError(f"{', '.join(wrong)} run on another host: run them with {settings}.")


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    left_out = config.stash.get(LEFT_OUT, set())
    if left_out:
        if on_test_host():
            where = "DialogForm (the default settings)"
        else:
            where = "the test host (--ds=tests.testhost.settings; any_host/ ran here too)"
        terminalreporter.write_line(
            f"Left out of this run, as they run on {where}: {', '.join(sorted(left_out))}. make test runs both."
        )


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
def host_objects() -> HostObjects:
    """This run's host's objects (its settings' TEST_HOST_OBJECTS): accounts, their admins, and changes that
    send each of its notifications."""
    objects: HostObjects = import_string(django_settings.TEST_HOST_OBJECTS)()
    return objects


@pytest.fixture
def account(db: None, host_objects: HostObjects) -> Any:
    if on_test_host():
        return host_objects.account()
    from accounts.models import Account

    return Account.objects.create(name="Acme Learning")  # DialogForm's pages and screenshots show it


@pytest.fixture
def admin_user(account: Any, host_objects: HostObjects) -> Any:
    """An admin of `account`, who signs in as "ada"."""
    user = host_objects.admin(account, email="ada@example.com")
    user.username = "ada"
    user.set_password("correct horse battery")
    user.save()
    return user


# DialogForm's objects, for its tests (tests/host/, faults/, browser/).


@pytest.fixture
def flow(account: Any) -> Any:
    from chats.models import Flow, Prompt

    flow = Flow.objects.create(account=account, name="Onboarding quiz")
    Prompt.objects.create(flow=flow, name="capital", text="What is the capital of France?", position=0)
    Prompt.objects.create(flow=flow, name="colour", text="Favourite colour?", position=1)
    return flow


@pytest.fixture
def chat(flow: Any) -> Any:
    from chats.models import Chat

    return Chat.objects.create(flow=flow, identifier="participant-1")


@pytest.fixture
def receiver(httpserver: Any) -> Any:
    """The real loopback HTTP server that plays the customer's endpoint, answering 200 by default."""
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    return httpserver


@pytest.fixture
def webhook(account: Any, receiver: Any) -> Webhook:
    return Webhook.objects.create(account=account, url=receiver.url_for("/hook"))
