"""The admin panel: flow pages and chat histories, with feedback and delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Account, Membership
from chats.models import Chat, Feedback, Flow, Prompt, Response
from integrations.models import Webhook


@pytest.fixture
def admin_client(client: Client, admin_user: Any) -> Client:
    client.force_login(admin_user)
    return client


@pytest.fixture
def answered(chat: Chat) -> Response:
    return Response.objects.create(chat=chat, prompt=chat.flow.prompts.get(name="capital"), answer="Paris")


def test_home_lists_flows_with_counts_and_share_links(admin_client: Client, flow: Flow, chat: Chat) -> None:
    Chat.objects.create(flow=flow, identifier="done", status=Chat.Status.COMPLETED)
    page = admin_client.get(reverse("home")).content.decode()
    assert f'href="{reverse("chats:flow", args=[flow.pk])}">Onboarding quiz<' in page
    assert '<td data-label="Chats">2</td>' in page and '<td data-label="Completed">1</td>' in page
    assert f"/c/{flow.share_token}/?identifier=" in page


def test_the_flow_page_lists_its_chats_newest_first_and_filters(admin_client: Client, flow: Flow) -> None:
    for number in range(30):
        Chat.objects.create(
            flow=flow, identifier=f"p{number:02}", status="completed" if number % 3 == 0 else "in_progress"
        )
    page = admin_client.get(reverse("chats:flow", args=[flow.pk])).content.decode()
    assert page.index("p29") < page.index("p28")  # newest first
    assert "p04" not in page  # 25 a page
    assert "Page 1 of 2" in page
    assert "p04" in admin_client.get(reverse("chats:flow", args=[flow.pk]), {"page": 2}).content.decode()
    completed = admin_client.get(reverse("chats:flow", args=[flow.pk]), {"status": "completed"}).content.decode()
    assert "p27" in completed and "p28" not in completed
    assert admin_client.get(reverse("chats:flow", args=[flow.pk]), {"status": "x", "page": "z"}).status_code == 200


def test_the_chat_history_shows_the_conversation_with_feedback_boxes(
    admin_client: Client, chat: Chat, answered: Response
) -> None:
    Feedback.objects.create(response=answered, text="Spot on")
    page = admin_client.get(reverse("chats:chat", args=[chat.pk])).content.decode()
    assert page.index("What is the capital of France?") < page.index("Paris") < page.index("Favourite colour?")
    assert "Spot on" in page
    assert "Not answered yet" in page
    assert reverse("chats:feedback", args=[chat.pk, answered.pk]) in page


@pytest.mark.django_db(transaction=True)
def test_feedback_is_created_edited_and_cleared_and_each_change_notifies(
    admin_client: Client,
    chat: Chat,
    answered: Response,
    webhook: Webhook,
    receiver: Any,
    run_worker: Callable[[], None],
) -> None:
    url = reverse("chats:feedback", args=[chat.pk, answered.pk])
    field = f"r{answered.pk}-text"
    assert "Feedback saved." in admin_client.post(url, {field: "Good"}, follow=True).content.decode()
    admin_client.post(url, {field: "Good"})  # unchanged: no notification
    admin_client.post(url, {field: "Very good"})
    assert "Feedback cleared." in admin_client.post(url, {field: ""}, follow=True).content.decode()
    assert Feedback.objects.get().text == ""
    run_worker()
    bodies = [request.get_json() for request, _ in receiver.log]
    assert (
        bodies
        == [
            {
                "type": "feedbackUpdated",
                "data": {"flowId": chat.flow_id, "identifier": chat.identifier, "promptName": "capital"},
            }
        ]
        * 3
    )


def test_overlong_feedback_is_refused_with_a_message(admin_client: Client, chat: Chat, answered: Response) -> None:
    url = reverse("chats:feedback", args=[chat.pk, answered.pk])
    page = admin_client.post(url, {f"r{answered.pk}-text": "x" * 5001}, follow=True).content.decode()
    assert "at most 5000 characters" in page
    assert not Feedback.objects.exists()


def test_feedback_saved_in_place_answers_with_a_status_not_a_page(
    admin_client: Client, chat: Chat, answered: Response
) -> None:
    url = reverse("chats:feedback", args=[chat.pk, answered.pk])
    history = admin_client.get(reverse("chats:chat", args=[chat.pk])).content.decode()
    assert f'hx-post="{url}"' in history and "beforeunload" in history  # in place, and no text lost by leaving
    saved = admin_client.post(url, {f"r{answered.pk}-text": "Well done"}, HTTP_HX_REQUEST="true")
    assert saved.status_code == 200
    assert saved.content.decode().strip() == '<span class="feedback-status saved" role="status">Feedback saved.</span>'
    assert Feedback.objects.get().text == "Well done"
    refused = admin_client.post(url, {f"r{answered.pk}-text": "x" * 5001}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400 and "at most 5000 characters" in refused.content.decode()
    assert Feedback.objects.get().text == "Well done"


def test_the_share_link_is_shown_so_that_copying_it_gives_a_working_template(admin_client: Client, flow: Flow) -> None:
    page = admin_client.get(reverse("chats:flow", args=[flow.pk])).content.decode()
    link = reverse("chats:participant", args=[flow.share_token])
    assert f"{link}?identifier=</code>" in page and "…" not in page.split('id="share-link"')[1].split("</code>")[0]
    assert 'data-copy="#share-link"' in page


@pytest.mark.django_db(transaction=True)
def test_deleting_a_chat_asks_first_then_notifies(
    admin_client: Client,
    chat: Chat,
    answered: Response,
    webhook: Webhook,
    receiver: Any,
    run_worker: Callable[[], None],
) -> None:
    url = reverse("chats:chat_delete", args=[chat.pk])
    confirm = admin_client.get(url).content.decode()
    assert "Delete this chat?" in confirm
    assert f"Your endpoint <code>{webhook.url}</code> receives a <code>deleted</code> notification." in confirm
    assert Chat.objects.filter(pk=chat.pk).exists()  # asking deletes nothing
    # What it says follows the subscriptions: several endpoints, or none subscribed to deleted.
    Webhook.objects.create(account=webhook.account, url="http://127.0.0.1:9/ops", description="Ops")
    assert "2 of your endpoints receive a <code>deleted</code>" in admin_client.get(url).content.decode()
    Webhook.objects.update(event_types=["completed"])
    assert "No endpoint of yours receives <code>deleted</code>" in admin_client.get(url).content.decode()
    Webhook.objects.update(event_types=[])
    response = admin_client.post(url, follow=True)
    assert "deleted" in response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("chats:flow", args=[chat.flow_id])
    assert not Chat.objects.filter(pk=chat.pk).exists()
    assert not Response.objects.exists()
    run_worker()
    [(request, _)] = receiver.log
    assert request.get_json() == {"type": "deleted", "data": {"flowId": chat.flow_id, "identifier": chat.identifier}}


def test_another_accounts_flow_chat_and_response_are_404s(
    admin_client: Client, account: Account, django_user_model: Any
) -> None:
    rival = Account.objects.create(name="Rival")
    flow = Flow.objects.create(account=rival, name="Theirs")
    prompt = Prompt.objects.create(flow=flow, name="q", text="?", position=0)
    chat = Chat.objects.create(flow=flow, identifier="theirs")
    response = Response.objects.create(chat=chat, prompt=prompt, answer="secret answer")
    for url in (
        reverse("chats:flow", args=[flow.pk]),
        reverse("chats:chat", args=[chat.pk]),
        reverse("chats:chat_delete", args=[chat.pk]),
    ):
        assert admin_client.get(url).status_code == 404
    assert admin_client.post(reverse("chats:chat_delete", args=[chat.pk])).status_code == 404
    assert admin_client.post(reverse("chats:feedback", args=[chat.pk, response.pk]), {}).status_code == 404
    assert Chat.objects.filter(pk=chat.pk).exists() and not Feedback.objects.exists()


def test_a_response_of_another_chat_is_a_404(admin_client: Client, flow: Flow, chat: Chat, answered: Response) -> None:
    other = Chat.objects.create(flow=flow, identifier="other")
    assert admin_client.post(reverse("chats:feedback", args=[other.pk, answered.pk]), {}).status_code == 404


def test_members_do_not_reach_the_admin_panel(
    client: Client, account: Account, flow: Flow, chat: Chat, django_user_model: Any
) -> None:
    member = django_user_model.objects.create_user(username="mo", password="pw-long-enough")
    Membership.objects.create(account=account, user=member, role=Membership.Role.MEMBER)
    client.force_login(member)
    assert client.get(reverse("chats:flow", args=[flow.pk])).status_code == 404
    assert client.get(reverse("chats:chat", args=[chat.pk])).status_code == 404
    home = client.get(reverse("home")).content.decode()
    assert "Onboarding quiz" in home and reverse("chats:flow", args=[flow.pk]) not in home
