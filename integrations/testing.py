"""Help for a host's tests: the adapter's contract, and a real Redis server to queue on.

A host passes its adapter and a `HostObjects` that makes its own objects; `adapter_contract_check`
then asserts what the app relies on. DialogForm's adapter and the example host's both pass it.
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

from .adapter import ChatFacts, IntegrationsAdapter


class HostObjects(Protocol):
    """Makes the host's objects for the contract: an account, its chats, feedback and people."""

    def account(self) -> models.Model: ...
    def chat(self, account: models.Model, *, completed: bool) -> models.Model: ...
    def complete(self, chat: models.Model) -> None: ...
    def feedback(self, chat: models.Model, *, text: str) -> models.Model: ...
    def change_feedback(self, feedback: models.Model, *, text: str) -> None: ...
    def admin(self, account: models.Model, *, email: str) -> AbstractBaseUser: ...
    def member(self, account: models.Model) -> AbstractBaseUser: ...


def adapter_contract_check(adapter: IntegrationsAdapter, host: HostObjects) -> None:
    """Assert everything the app relies on the adapter for, with the host's own objects."""
    assert isinstance(adapter, IntegrationsAdapter), "the adapter lacks methods of integrations.adapter.BaseAdapter"
    account = host.account()
    other_account = host.account()
    assert isinstance(account, adapter.get_account_model())

    chat = host.chat(account, completed=False)
    assert isinstance(chat, adapter.get_chat_model())
    assert adapter.chat_is_completed(chat) is False
    facts = adapter.chat_facts(chat)
    assert isinstance(facts, ChatFacts)
    assert facts.account_id == account.pk, "a chat's facts name its account"
    assert isinstance(facts.flow_id, int) and isinstance(facts.identifier, str)
    host.complete(chat)
    assert adapter.chat_is_completed(chat) is True
    score = adapter.chat_score(chat)
    assert score is None or isinstance(score, int | float)
    assert adapter.chat_facts(host.chat(other_account, completed=True)).account_id == other_account.pk

    feedback = host.feedback(chat, text="Well done")
    assert isinstance(feedback, adapter.get_feedback_model())
    assert adapter.feedback_text(feedback) == "Well done"
    feedback_facts = adapter.feedback_facts(feedback)
    assert feedback_facts.chat == adapter.chat_facts(chat), "feedback's facts name the chat it is on"
    assert isinstance(feedback_facts.prompt_name, str)
    host.change_feedback(feedback, text="Well done, again")
    assert adapter.feedback_text(feedback) == "Well done, again"

    for model in (adapter.get_chat_model(), adapter.get_feedback_model()):
        fields = adapter.chat_fields if model is adapter.get_chat_model() else adapter.feedback_fields
        for name in fields:
            model._meta.get_field(name)  # raises FieldDoesNotExist for a field the adapter says it reads

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
    assert not adapter.is_account_deletion(chat)
    assert not adapter.is_account_deletion(adapter.get_chat_model()._default_manager.none())


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
