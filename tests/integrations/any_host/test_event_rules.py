"""The app's rules, on whatever host runs them: DialogForm in this suite, the example host in `bin/test-example`.

Only the host's declared event catalog and a `host_objects` fixture (each host's conftest provides
one, an `integrations.testing.HostObjects`) are used; everything else is the app's own public API.
So these tests say the same thing about every host: each type the host declares arrives signed,
with a body of its documented shape; a save that changes nothing is not news; another account's
endpoint gets nothing; and a failing receiver leads to a retry.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import standardwebhooks
from django.db import models
from jsonschema import Draft202012Validator

from integrations.adapter import subscribable
from integrations.catalog import EventType, OnSave
from integrations.models import Delivery, Event, Webhook
from integrations.outbox import delivery_resend
from integrations.queue import webhooks_queue
from integrations.testing import HostObjects
from integrations.worker import WebhookWorker

pytestmark = pytest.mark.django_db(transaction=True)  # the worker sends after commit, as in production


@pytest.fixture
def run_webhook_worker() -> Callable[[], None]:
    """The app's own worker class, in burst mode: it works off the queue and its sends, then returns."""

    def run() -> None:
        queue = webhooks_queue()
        WebhookWorker([queue], connection=queue.connection).work(burst=True, logging_level="WARNING")

    return run


@pytest.fixture
def account(host_objects: HostObjects) -> models.Model:
    return host_objects.account()


@pytest.fixture
def hook(account: models.Model, httpserver: Any) -> Webhook:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    return Webhook.objects.create(account=account, url=f"http://127.0.0.1:{httpserver.port}/hook")


def event_types() -> list[str]:
    return list(Event.objects.order_by("created_at").values_list("type", flat=True))


def on_save(declared: EventType) -> bool:
    return isinstance(declared.trigger, OnSave)


def test_the_host_declares_what_it_sends() -> None:
    assert subscribable(), "the adapter declares its event types"
    assert all(declared.trigger is not None for declared in subscribable()), "each is built from a change"


def test_each_declared_event_arrives_signed_with_a_body_of_its_documented_shape(
    host_objects: HostObjects, account: models.Model, hook: Webhook, httpserver: Any, run_webhook_worker: Any
) -> None:
    about = {}
    for declared in subscribable():
        about[declared.name] = host_objects.cause(declared.name, account)
        assert event_types()[-1:] == [declared.name], f"one {declared.name!r} for the change the host made"
    assert event_types() == [declared.name for declared in subscribable()], "exactly one notification each"
    run_webhook_worker()
    received = {}
    for request, _ in httpserver.log:
        body = standardwebhooks.Webhook(hook.secret).verify(request.get_data(), dict(request.headers))
        received[body["type"]] = body
        assert request.headers["webhook-id"] == Event.objects.get(type=body["type"]).msg_id
    for declared in subscribable():
        body = received[declared.name]
        Draft202012Validator(declared.body_schema).validate(body)
        Draft202012Validator(declared.body_schema).validate(declared.example_body)
        if on_save(declared):  # the object is still there: its body is what the host's catalog builds of it
            trigger: Any = declared.trigger
            assert body["data"] == json.loads(json.dumps(trigger.build(about[declared.name]).data))
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SUCCEEDED}


def test_a_save_that_changes_nothing_is_not_news(
    host_objects: HostObjects, account: models.Model, hook: Webhook
) -> None:
    for declared in filter(on_save, subscribable()):
        instance = host_objects.cause(declared.name, account)
        sent = event_types()
        instance.save()
        assert event_types() == sent, f"saved again unchanged, {declared.name!r} is not sent twice"


def test_an_account_deleted_with_its_objects_sends_nothing_and_takes_its_events(
    host_objects: HostObjects, account: models.Model, hook: Webhook
) -> None:
    for declared in filter(on_save, subscribable()):
        host_objects.cause(declared.name, account)  # objects of the account, there when it is deleted
    assert Event.objects.exists()
    # Its webhooks and events go with it: an event recorded while the account is being deleted
    # would point at a deleted account and fail the delete.
    account.delete()
    assert not Event.objects.exists()
    assert not Delivery.objects.exists()


def test_another_accounts_webhook_receives_nothing(
    host_objects: HostObjects, account: models.Model, hook: Webhook
) -> None:
    other = host_objects.account()
    for declared in subscribable():
        host_objects.cause(declared.name, other)
    assert not Delivery.objects.filter(webhook=hook).exists()


def test_an_endpoint_gets_only_the_types_it_subscribes_to(
    host_objects: HostObjects, account: models.Model, hook: Webhook
) -> None:
    first = subscribable()[0]
    hook.event_types = [first.name]
    hook.save()
    for declared in subscribable():
        host_objects.cause(declared.name, account)
    assert list(Delivery.objects.values_list("event__type", flat=True)) == [first.name]
    assert event_types() == [first.name]  # an event no endpoint subscribes to is not recorded at all


def test_a_failing_receiver_gets_a_retry_and_a_resend_keeps_the_webhook_id(
    host_objects: HostObjects, account: models.Model, httpserver: Any, run_webhook_worker: Any
) -> None:
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("down", status=503)
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    Webhook.objects.create(account=account, url=f"http://127.0.0.1:{httpserver.port}/hook")
    host_objects.cause(subscribable()[0].name, account)
    run_webhook_worker()
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempt_count) == (Delivery.Status.PENDING, 1)
    assert delivery.attempts.get().error == "The receiver answered HTTP 503."
    delivery_resend(delivery=delivery)  # now, rather than after the retry delay
    run_webhook_worker()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SUCCEEDED
    ids = {request.headers["webhook-id"] for request, _ in httpserver.log}
    assert ids == {delivery.event.msg_id}
