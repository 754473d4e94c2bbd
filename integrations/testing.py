"""Help for a host's tests: the adapter's contract, and a real Redis server to queue on.

A host passes its adapter and a `HostObjects` that makes its own objects; `adapter_contract_check`
then asserts what the app relies on the adapter for.
Plain asserts, no test framework: call it from a test that may use the database.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from typing import Protocol

import redis
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models

from .adapter import ADAPTER_MEMBERS, IntegrationsAdapter


class HostObjects(Protocol):
    """Makes the host's objects, for the adapter's contract and the app's tests that run on any host."""

    def account(self) -> models.Model: ...
    def admin(self, account: models.Model, *, email: str) -> AbstractBaseUser: ...
    def member(self, account: models.Model) -> AbstractBaseUser: ...
    def cause(self, event_type: str, account: models.Model) -> models.Model:
        """Change the host's objects so that exactly one notification of `event_type` is sent, for `account`
        (nothing else): return the object it is about (for a deletion, the object as it was)."""
        ...


def adapter_contract_check(adapter: IntegrationsAdapter, host: HostObjects) -> None:
    """Assert everything the app relies on the adapter for, with the host's own objects.

    What each event type sends for a change of the host's objects is for the host's own tests (and
    the app's tests that run on any host) to assert: it is the host's contract with its receivers.
    """
    from .checks import check_catalog

    missing = [name for name in ADAPTER_MEMBERS if not hasattr(adapter, name)]
    assert not missing, f"the adapter lacks {', '.join(missing)} (see integrations.adapter.BaseAdapter)"
    problems = check_catalog(adapter.event_types, adapter=type(adapter).__name__)
    assert not problems, "\n".join(str(problem) for problem in problems)
    account = host.account()
    other_account = host.account()
    assert isinstance(account, adapter.get_account_model())

    admin = host.admin(account, email="admin@example.com")
    member = host.member(account)
    found = adapter.account_for_admin(admin)
    assert found is not None and found.pk == account.pk, "an admin manages their account's integrations"
    assert adapter.account_for_admin(member) is None, "a member who is not an admin manages none"
    assert adapter.account_for_admin(AnonymousUser()) is None
    assert "admin@example.com" in adapter.account_admin_emails(account.pk)
    assert "admin@example.com" not in adapter.account_admin_emails(other_account.pk)

    accounts = adapter.get_account_model()._default_manager.filter(pk=account.pk)
    assert adapter.is_account_deletion(account) and adapter.is_account_deletion(accounts)
    assert not adapter.is_account_deletion(admin)
    assert not adapter.is_account_deletion(type(admin)._default_manager.none())


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_server_start(port: int) -> subprocess.Popen[bytes]:
    """A real redis-server on loopback, without persistence, returned once it answers (stop it yourself)."""
    executable = shutil.which("redis-server")
    assert executable, "redis-server is missing (on Debian/Ubuntu: apt-get install redis-server)"
    process = subprocess.Popen(  # noqa: S603 -- a fixed program and arguments, for tests
        [executable, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    try:
        while True:
            try:
                client.ping()
                return process
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    process.kill()
                    raise
                time.sleep(0.05)
    finally:
        client.close()
