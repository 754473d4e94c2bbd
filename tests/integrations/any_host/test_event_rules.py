"""The app's rules, on whatever host runs them: DialogForm in this suite, the example host in `bin/test-example`.

Only the adapter's contract is used to make the host's objects (a `host_objects` fixture, which
each host's conftest provides, and its `HostObjects` methods); everything else is the app's own
public API. So these tests say the same thing about every host: which saves are news, what
arrives at the receiver, signed, and what a failing receiver leads to.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import standardwebhooks
from django.db import models

from integrations.adapter import get_adapter
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


def test_a_completion_arrives_signed_with_the_documented_body(
    host_objects: HostObjects, account: models.Model, hook: Webhook, httpserver: Any, run_webhook_worker: Any
) -> None:
    chat = host_objects.chat(account, completed=False)
    host_objects.complete(chat)
    run_webhook_worker()
    [(request, _)] = httpserver.log
    body = request.get_data()
    standardwebhooks.Webhook(hook.secret).verify(body, dict(request.headers))
    facts, score = get_adapter().chat_facts(chat), get_adapter().chat_score(chat)
    expected = {"flowId": facts.flow_id, "identifier": facts.identifier, "score": score}
    assert json.loads(body) == {"type": "completed", "data": expected}
    assert request.headers["webhook-id"] == Event.objects.get().msg_id
    assert Delivery.objects.get().status == Delivery.Status.SUCCEEDED


def test_completion_is_news_once_per_transition(
    host_objects: HostObjects, account: models.Model, hook: Webhook
) -> None:
    chat = host_objects.chat(account, completed=False)
    assert event_types() == []
    host_objects.complete(chat)
    chat.save()  # saved again while completed
    assert event_types() == ["completed"]
    host_objects.chat(account, completed=True)  # created completed
    assert event_types() == ["completed", "completed"]


def test_feedback_is_news_when_created_and_when_its_text_changes(
    host_objects: HostObjects, account: models.Model, hook: Webhook
) -> None:
    chat = host_objects.chat(account, completed=True)
    feedback = host_objects.feedback(chat, text="Good")
    feedback.save()  # nothing changed
    host_objects.change_feedback(feedback, text="Very good")
    assert event_types() == ["completed", "feedbackUpdated", "feedbackUpdated"]
    body = json.loads(Event.objects.order_by("-created_at").first().body)  # type: ignore[union-attr]
    assert body["data"]["promptName"] == get_adapter().feedback_facts(feedback).prompt_name


def test_a_deleted_chat_is_news_but_not_when_its_account_goes(
    host_objects: HostObjects, account: models.Model, hook: Webhook
) -> None:
    chat = host_objects.chat(account, completed=False)
    host_objects.chat(account, completed=False)  # still there when the account is deleted
    facts = get_adapter().chat_facts(chat)
    chat.delete()
    assert event_types() == ["deleted"]
    assert json.loads(Event.objects.get().body)["data"] == {"flowId": facts.flow_id, "identifier": facts.identifier}
    # Its webhooks and events go with it: an event recorded while the account is being deleted
    # would point at a deleted account and fail the delete.
    account.delete()
    assert not Event.objects.exists()


def test_another_accounts_webhook_receives_nothing(
    host_objects: HostObjects, account: models.Model, hook: Webhook
) -> None:
    other = host_objects.account()
    host_objects.chat(other, completed=True)
    assert not Delivery.objects.filter(webhook=hook).exists()


def test_a_failing_receiver_gets_a_retry_and_a_resend_keeps_the_webhook_id(
    host_objects: HostObjects, account: models.Model, httpserver: Any, run_webhook_worker: Any
) -> None:
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("down", status=503)
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    Webhook.objects.create(account=account, url=f"http://127.0.0.1:{httpserver.port}/hook")
    host_objects.chat(account, completed=True)
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
