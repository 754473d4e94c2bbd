"""DialogForm's notifications from its models' changes, at a real loopback receiver: what each change sends,
exactly as documented and signed (moved from the app's delivery tests: they are DialogForm's contract)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import standardwebhooks

import integrations
from accounts.models import Account
from chats.models import Chat, Feedback, Flow, Prompt
from chats.models import Response as ChatResponse
from integrations.models import Delivery, DeliveryAttempt, Event, Webhook
from tests.helpers import bodies, received

pytestmark = pytest.mark.django_db(transaction=True)


def complete(chat: Chat, score: int | None = 7) -> None:
    chat.status = Chat.Status.COMPLETED
    chat.score = score
    chat.save()


def test_completed_arrives_exactly_as_documented_and_signed(
    chat: Chat, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    complete(chat, score=7)
    run_worker()

    [(body, headers, raw)] = received(receiver)
    assert body == {"type": "completed", "data": {"flowId": chat.flow_id, "identifier": "participant-1", "score": 7}}
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == f"DialogForm-Webhooks/{integrations.__version__}"  # the product's, from settings
    event = Event.objects.get()
    assert headers["webhook-id"] == event.msg_id
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 60
    assert standardwebhooks.Webhook(webhook.secret).verify(raw, headers) == body

    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.SUCCEEDED
    assert delivery.attempt_count == 1
    [attempt] = DeliveryAttempt.objects.all()
    assert (attempt.succeeded, attempt.status_code, attempt.response_body, attempt.error) == (True, 200, "ok", "")


def test_completed_is_sent_once_per_transition(
    chat: Chat, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    complete(chat, score=3)
    chat.save()  # saved again while completed: nothing new
    Chat.objects.get(pk=chat.pk).save()
    run_worker()
    assert len(bodies(receiver)) == 1

    chat.status = Chat.Status.IN_PROGRESS
    chat.save()
    complete(chat, score=4)  # completed again after being reopened: a new transition
    run_worker()
    assert [body["data"]["score"] for body in bodies(receiver)] == [3, 4]


def test_a_chat_created_completed_sends_completed_with_null_score(
    flow: Flow, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    Chat.objects.create(flow=flow, identifier="walk-in", status=Chat.Status.COMPLETED, score=None)
    run_worker()
    assert bodies(receiver) == [
        {"type": "completed", "data": {"flowId": flow.pk, "identifier": "walk-in", "score": None}}
    ]


def test_an_in_progress_save_sends_nothing(
    chat: Chat, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    chat.score = 2
    chat.save()
    run_worker()
    assert bodies(receiver) == []
    assert not Event.objects.exists()


def test_a_bulk_delete_of_n_chats_sends_n_deleted(
    flow: Flow, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    for number in range(5):
        Chat.objects.create(flow=flow, identifier=f"bulk-{number}")
    Chat.objects.filter(flow=flow).delete()
    run_worker()
    assert sorted(body["data"]["identifier"] for body in bodies(receiver)) == [f"bulk-{n}" for n in range(5)]
    assert {body["type"] for body in bodies(receiver)} == {"deleted"}
    assert all(
        body["data"] == {"flowId": flow.pk, "identifier": body["data"]["identifier"]} for body in bodies(receiver)
    )


def test_a_single_delete_sends_deleted(
    chat: Chat, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    flow_id = chat.flow_id
    chat.delete()
    run_worker()
    assert bodies(receiver) == [{"type": "deleted", "data": {"flowId": flow_id, "identifier": "participant-1"}}]


def test_deleting_a_flow_sends_one_deleted_per_chat(
    flow: Flow, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    for identifier in ("a", "b", "c"):
        Chat.objects.create(flow=flow, identifier=identifier)
    flow_id = flow.pk
    flow.delete()
    run_worker()
    assert sorted((b["type"], b["data"]["flowId"], b["data"]["identifier"]) for b in bodies(receiver)) == [
        ("deleted", flow_id, "a"),
        ("deleted", flow_id, "b"),
        ("deleted", flow_id, "c"),
    ]


def test_deleting_the_account_sends_nothing(
    account: Account, chat: Chat, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    account.delete()
    run_worker()
    assert bodies(receiver) == []
    assert not Event.objects.exists()


def feedback_target(chat: Chat) -> ChatResponse:
    prompt = Prompt.objects.get(flow=chat.flow, name="capital")
    return ChatResponse.objects.create(chat=chat, prompt=prompt, answer="Paris")


def test_feedback_created_and_changed_sends_feedback_updated(
    chat: Chat, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    feedback = Feedback.objects.create(response=feedback_target(chat), text="Well done")
    feedback.save()  # same text: nothing
    feedback.text = "Well done, and quick"
    feedback.save()
    run_worker()
    expected = {
        "type": "feedbackUpdated",
        "data": {"flowId": chat.flow_id, "identifier": "participant-1", "promptName": "capital"},
    }
    assert bodies(receiver) == [expected, expected]
