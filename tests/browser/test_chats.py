"""In Chromium: a participant completes a quiz through its share link; an admin gives feedback and deletes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Account
from chats.models import Chat, Flow, Prompt, Response
from integrations.models import Webhook

QUIZ = [
    ("france", "What is the capital of France?", "Paris", 1),
    ("japan", "And the capital of Japan?", "Tokyo", 1),
    ("australia", "Last one: the capital of Australia?", "Canberra", 2),
]


@pytest.fixture
def quiz(account: Account) -> Flow:
    flow = Flow.objects.create(account=account, name="Capitals quiz")
    for position, (name, text, expected, points) in enumerate(QUIZ):
        Prompt.objects.create(
            flow=flow, name=name, text=text, position=position, expected_answer=expected, points=points
        )
    return flow


@pytest.fixture
def hook(account: Account, receiver: Any) -> Webhook:
    return Webhook.objects.create(account=account, url=receiver.url_for("/hook"))


def notifications(receiver: Any) -> list[dict[str, Any]]:
    return [request.get_json() for request, _ in receiver.log]


def test_a_participant_completes_the_quiz_and_the_receiver_gets_the_score(
    page: Page,
    live_server: Any,
    quiz: Flow,
    hook: Webhook,
    receiver: Any,
    run_worker: Callable[[], None],
    screenshot: Callable[[str], None],
) -> None:
    page.goto(f"{live_server.url}/c/{quiz.share_token}/?identifier=alice")
    expect(page.locator("#current-prompt")).to_have_text("What is the capital of France?")
    for position, typed in enumerate([" paris ", "Kyoto", "CANBERRA"]):
        expect(page.locator("#progress")).to_have_text(f"Question {position + 1} of 3")
        page.get_by_placeholder("Type your answer").fill(typed)
        if position == 1:
            screenshot("participant-chat")
            page.get_by_placeholder("Type your answer").press("Enter")  # Enter sends, as in any chat
        else:
            page.get_by_role("button", name="Send").click()
        if position < 2:
            expect(page.locator("#current-prompt")).to_have_text(QUIZ[position + 1][1])
    # Out of 4 for 3 questions: one is worth 2 points, and the participant is told so.
    expect(page.locator("#end-screen")).to_contain_text(
        "Your score: 3 out of 4 points (the questions are worth different points)."
    )
    screenshot("participant-end")

    run_worker()
    assert notifications(receiver) == [
        {"type": "completed", "data": {"flowId": quiz.pk, "identifier": "alice", "score": 3}}
    ]


def test_an_admin_gives_feedback_then_deletes_the_chat(
    page: Page,
    live_server: Any,
    quiz: Flow,
    hook: Webhook,
    admin_user: Any,
    receiver: Any,
    run_worker: Callable[[], None],
    screenshot: Callable[[str], None],
) -> None:
    chat = Chat.objects.create(flow=quiz, identifier="bob")
    for prompt, answer in zip(quiz.prompts.all(), ["Paris", "Osaka", "Sydney"], strict=True):
        Response.objects.create(chat=chat, prompt=prompt, answer=answer)
    chat.status, chat.score = Chat.Status.COMPLETED, 1
    chat.save()
    Chat.objects.create(flow=quiz, identifier="carol")
    run_worker()
    receiver.clear_log()

    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Capitals quiz").click()
    expect(page.get_by_role("heading", name="Capitals quiz")).to_be_visible()
    screenshot("flow-page")
    page.get_by_role("link", name="bob").click()
    expect(page.get_by_role("heading", name="bob")).to_be_visible()
    expect(page.get_by_text("score 1 out of 4 points (the questions are worth different points)")).to_be_visible()
    # htmx (deferred) takes the forms over once the page has loaded; a click before that posts the whole
    # page, which works too (the flash says "Feedback saved."), but this test is about the in-place save.
    page.wait_for_load_state("load")

    japan = Response.objects.get(chat=chat, prompt__name="japan")
    australia = Response.objects.get(chat=chat, prompt__name="australia")
    page.locator(f"#id_r{australia.pk}-text").fill("Canberra, in fact.")  # typed, not saved yet
    page.locator(f"#id_r{japan.pk}-text").fill("Close, but it is Tokyo.")
    page.locator(f'form[action$="/responses/{japan.pk}/feedback/"]').get_by_role("button").click()
    expect(page.locator(f"#feedback-status-{japan.pk}")).to_have_text("Feedback saved.")  # in place, no reload
    expect(page.locator(f"#id_r{japan.pk}-text")).to_have_value("Close, but it is Tokyo.")
    expect(page.locator(f"#id_r{australia.pk}-text")).to_have_value("Canberra, in fact.")  # nothing lost
    screenshot("chat-history")
    run_worker()
    assert notifications(receiver) == [
        {"type": "feedbackUpdated", "data": {"flowId": quiz.pk, "identifier": "bob", "promptName": "japan"}}
    ]
    page.locator(f'form[action$="/responses/{australia.pk}/feedback/"]').get_by_role("button").click()
    expect(page.locator(f"#feedback-status-{australia.pk}")).to_have_text("Feedback saved.")

    page.get_by_role("link", name="Delete chat").click()
    expect(page.get_by_role("heading", name="Delete this chat?")).to_be_visible()
    page.get_by_role("button", name="Delete chat").click()
    expect(page.get_by_text("Chat “bob” deleted.")).to_be_visible()
    expect(page.get_by_role("link", name="carol")).to_be_visible()
    assert not Chat.objects.filter(identifier="bob").exists()
    run_worker()
    assert notifications(receiver)[-1] == {"type": "deleted", "data": {"flowId": quiz.pk, "identifier": "bob"}}
