"""The participant's chat through a share link: prompts one at a time, resume, score, bad input."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Account
from chats.models import ANSWER_MAX_LENGTH, Chat, Flow, Prompt, Response
from integrations.models import Event, Webhook


@pytest.fixture
def quiz(account: Account) -> Flow:
    flow = Flow.objects.create(account=account, name="Capitals quiz")
    for position, (name, text, expected, points) in enumerate(
        [
            ("france", "Capital of France?", "Paris", 1),
            ("japan", "Capital of Japan?", "Tokyo", 2),
            ("you", "Name?", "", 0),
        ]
    ):
        Prompt.objects.create(
            flow=flow, name=name, text=text, position=position, expected_answer=expected, points=points
        )
    return flow


def link(flow: Flow, identifier: str | None = "alice") -> str:
    url = reverse("chats:participant", args=[flow.share_token])
    return url if identifier is None else f"{url}?identifier={identifier}"


def answer(client: Client, flow: Flow, text: str, identifier: str = "alice", prompt: Prompt | None = None) -> Any:
    chat = Chat.objects.get(flow=flow, identifier=identifier)
    if prompt is None:
        from chats.services import chat_next_prompt

        prompt = chat_next_prompt(chat=chat)
    assert prompt is not None
    return client.post(link(flow, identifier), {"prompt": prompt.pk, "answer": text})


def test_prompts_come_one_at_a_time_and_the_last_answer_completes(client: Client, quiz: Flow) -> None:
    page = client.get(link(quiz)).content.decode()
    assert "Capital of France?" in page and "Capital of Japan?" not in page
    assert "Question 1 of 3" in page
    assert answer(client, quiz, "paris").status_code == 302
    page = client.get(link(quiz)).content.decode()
    assert "Capital of France?" in page and "paris" in page and "Capital of Japan?" in page
    assert "Question 2 of 3" in page
    answer(client, quiz, "Kyoto")
    answer(client, quiz, "Alice")
    chat = Chat.objects.get(identifier="alice")
    assert chat.status == Chat.Status.COMPLETED
    assert chat.score == 1
    assert chat.completed_at is not None
    page = client.get(link(quiz)).content.decode()
    maximum = sum(prompt.points for prompt in quiz.prompts.all() if prompt.is_scored)
    assert 'id="end-screen"' in page and f"Your score: 1 out of {maximum} point" in page
    assert 'name="answer"' not in page


@pytest.mark.django_db(transaction=True)
def test_completing_through_the_link_sends_completed_with_the_score(
    client: Client, quiz: Flow, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    client.get(link(quiz, "bob"))
    for text in ("  PARIS ", "tokyo", "Bob"):
        answer(client, quiz, text, identifier="bob")
    run_worker()
    [(request, _)] = receiver.log
    assert request.get_json() == {"type": "completed", "data": {"flowId": quiz.pk, "identifier": "bob", "score": 3}}


def test_an_unscored_flow_completes_with_a_null_score(client: Client, account: Account) -> None:
    survey = Flow.objects.create(account=account, name="Survey")
    Prompt.objects.create(flow=survey, name="q", text="How are you?", position=0)
    client.get(link(survey))
    answer(client, survey, "Fine")
    chat = Chat.objects.get()
    assert (chat.status, chat.score) == (Chat.Status.COMPLETED, None)
    assert "Your score" not in client.get(link(survey)).content.decode()


def test_reopening_the_link_resumes_where_it_stopped(client: Client, quiz: Flow) -> None:
    client.get(link(quiz))
    answer(client, quiz, "Paris")
    other = Client()  # another browser, same identifier
    page = other.get(link(quiz)).content.decode()
    assert "Paris" in page and "Capital of Japan?" in page
    assert Chat.objects.count() == 1


def test_a_double_submit_stores_one_response(client: Client, quiz: Flow) -> None:
    client.get(link(quiz))
    france = quiz.prompts.get(name="france")
    answer(client, quiz, "Paris", prompt=france)
    answer(client, quiz, "Lyon", prompt=france)  # the same form sent again
    assert list(Response.objects.values_list("answer", flat=True)) == ["Paris"]


def test_answers_out_of_order_are_ignored(client: Client, quiz: Flow) -> None:
    client.get(link(quiz))
    answer(client, quiz, "Tokyo", prompt=quiz.prompts.get(name="japan"))
    assert not Response.objects.exists()


def test_a_completed_chat_takes_no_more_answers(client: Client, quiz: Flow) -> None:
    client.get(link(quiz))
    for text in ("Paris", "Tokyo", "Me"):
        answer(client, quiz, text)
    last = quiz.prompts.get(name="you")
    response = client.post(link(quiz), {"prompt": last.pk, "answer": "changed"})
    assert response.status_code == 302
    assert Response.objects.get(prompt=last).answer == "Me"
    assert Event.objects.count() == 0  # no webhook in this test; and nothing more was completed


def test_a_missing_identifier_gets_a_clear_message(client: Client, quiz: Flow) -> None:
    for url in (link(quiz, None), link(quiz, ""), link(quiz, "%20%20"), link(quiz, "x" * 201)):
        response = client.get(url)
        assert response.status_code == 400
        assert "The identifier in this link" in response.content.decode()
    assert not Chat.objects.exists()


def test_an_unknown_share_token_is_a_404(client: Client, quiz: Flow) -> None:
    assert client.get("/c/not-a-token/?identifier=a").status_code == 404
    assert client.get(f"/c/{quiz.pk}/?identifier=a").status_code == 404  # the flow id is not the token


def test_answers_are_limited_in_length_and_required(client: Client, quiz: Flow) -> None:
    client.get(link(quiz))
    france = quiz.prompts.get(name="france")
    too_long = client.post(link(quiz), {"prompt": france.pk, "answer": "x" * (ANSWER_MAX_LENGTH + 1)})
    assert too_long.status_code == 400
    assert f"at most {ANSWER_MAX_LENGTH} characters" in too_long.content.decode()
    empty = client.post(link(quiz), {"prompt": france.pk, "answer": ""})
    assert empty.status_code == 400
    assert "Type an answer before sending." in empty.content.decode()
    bogus = client.post(link(quiz), {"prompt": "not a number", "answer": "Paris"})
    assert bogus.status_code == 400
    assert not Response.objects.exists()


def test_a_prompt_of_another_flow_is_ignored(client: Client, quiz: Flow, account: Account) -> None:
    other = Flow.objects.create(account=account, name="Other")
    stranger = Prompt.objects.create(flow=other, name="x", text="?", position=0)
    client.get(link(quiz))
    assert client.post(link(quiz), {"prompt": stranger.pk, "answer": "a"}).status_code == 302
    assert not Response.objects.exists()


def test_the_share_link_needs_no_login_and_the_token_is_unguessable(quiz: Flow, account: Account) -> None:
    assert Client().get(link(quiz)).status_code == 200
    assert len(quiz.share_token) >= 20
    assert Flow.objects.create(account=account, name="Second").share_token != quiz.share_token
