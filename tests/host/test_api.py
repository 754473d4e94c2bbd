"""The details API's chat endpoints, with account API keys: the follow-up call of every notification."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Account
from chats.models import Chat, Feedback, Flow, Prompt, Response
from integrations.contrib.api.keys import api_key_create, api_key_revoke
from integrations.contrib.api.models import AccountAPIKey
from integrations.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(account: Account) -> str:
    return api_key_create(account_id=account.pk, name="CRM sync")[1]


def get(client: Client, url: str, key: str | None, **headers: str) -> Any:
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Api-Key {key}"
    return client.get(url, **headers)


@pytest.fixture
def completed_chat(flow: Flow) -> Chat:
    chat = Chat.objects.create(flow=flow, identifier="alice")
    capital, colour = flow.prompts.order_by("position")
    Response.objects.create(chat=chat, prompt=colour, answer="Blue")
    paris = Response.objects.create(chat=chat, prompt=capital, answer="Paris")
    Feedback.objects.create(response=paris, text="Right!")
    chat.status, chat.score = Chat.Status.COMPLETED, 1
    chat.save()
    return chat


def test_a_completed_chat_with_its_answers_in_prompt_order(
    client: Client, key: str, flow: Flow, completed_chat: Chat
) -> None:
    response = get(client, f"/api/v1/flows/{flow.pk}/chats/alice/", key)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert (body["flowId"], body["identifier"], body["status"], body["score"]) == (flow.pk, "alice", "completed", 1)
    assert body["completed_at"] is not None
    assert [(item["promptName"], item["answer"]) for item in body["responses"]] == [
        ("capital", "Paris"),
        ("colour", "Blue"),
    ]
    assert body["responses"][0]["promptText"] == "What is the capital of France?"
    assert body["responses"][0]["feedback"]["text"] == "Right!"
    assert body["responses"][1]["feedback"] is None


def test_the_notification_leads_to_its_follow_up_call(
    client: Client, key: str, flow: Flow, webhook: Any, completed_chat: Chat
) -> None:
    """The `completed` body names exactly what the chat endpoint takes."""
    data = json.loads(Event.objects.get(type="completed").body)["data"]
    response = get(client, f"/api/v1/flows/{data['flowId']}/chats/{data['identifier']}/", key)
    assert response.status_code == 200
    feedback = Feedback.objects.get()
    feedback.text = "Right, well done!"
    feedback.save()
    data = json.loads(Event.objects.filter(type="feedbackUpdated").latest("created_at").body)["data"]
    url = f"/api/v1/flows/{data['flowId']}/chats/{data['identifier']}/responses/{data['promptName']}/"
    response = get(client, url, key)
    assert response.status_code == 200
    assert response.json()["feedback"]["text"] == "Right, well done!"


def test_flows_list_and_detail(client: Client, key: str, flow: Flow) -> None:
    listed = get(client, "/api/v1/flows/", key).json()
    assert [item["id"] for item in listed["results"]] == [flow.pk]
    detail = get(client, f"/api/v1/flows/{flow.pk}/", key).json()
    assert [prompt["name"] for prompt in detail["prompts"]] == ["capital", "colour"]
    assert detail["shareLink"] == f"http://testserver/c/{flow.share_token}/"


def test_another_accounts_objects_are_404_like_missing_ones(
    client: Client, key: str, flow: Flow, completed_chat: Chat
) -> None:
    other = Account.objects.create(name="Other")
    their_flow = Flow.objects.create(account=other, name="Theirs")
    Prompt.objects.create(flow=their_flow, name="capital", text="?")
    Chat.objects.create(flow=their_flow, identifier="alice", status=Chat.Status.COMPLETED)
    theirs = [
        f"/api/v1/flows/{their_flow.pk}/",
        f"/api/v1/flows/{their_flow.pk}/chats/",
        f"/api/v1/flows/{their_flow.pk}/chats/alice/",
        f"/api/v1/flows/{their_flow.pk}/chats/alice/responses/capital/",
    ]
    missing = [url.replace(str(their_flow.pk), "999999") for url in theirs]
    for url in [*theirs, *missing]:
        response = get(client, url, key)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/json"
    their_key = api_key_create(account_id=other.pk, name="theirs")[1]
    assert get(client, f"/api/v1/flows/{flow.pk}/chats/alice/", their_key).status_code == 404


@pytest.mark.parametrize(
    ("authorization", "expected_detail"),
    [
        (None, "An API key is needed"),
        ("Bearer abc", "Send the key as"),
        ("Api-Key", "Send the key as"),
        ("Api-Key nodot", "Send the key as"),
        ("Api-Key abcdefgh.wrongwrongwrong", "not valid"),
    ],
)
def test_requests_without_a_good_key_are_401_in_json(
    client: Client, flow: Flow, authorization: str | None, expected_detail: str
) -> None:
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = client.get(f"/api/v1/flows/{flow.pk}/", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"
    assert expected_detail in response.json()["detail"]


def test_revoked_and_expired_keys_are_refused(client: Client, account: Account, flow: Flow, key: str) -> None:
    assert get(client, "/api/v1/flows/", key).status_code == 200
    api_key_revoke(account_id=account.pk, prefix=key.partition(".")[0])
    assert get(client, "/api/v1/flows/", key).status_code == 401
    expired = api_key_create(account_id=account.pk, name="old", expires_at=timezone.now() - timedelta(seconds=1))[1]
    response = get(client, "/api/v1/flows/", expired)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


def test_using_a_key_records_when_it_was_last_used(client: Client, flow: Flow, key: str) -> None:
    assert AccountAPIKey.objects.get().last_used_at is None
    get(client, "/api/v1/flows/", key)
    assert AccountAPIKey.objects.get().last_used_at is not None


def test_chats_filter_by_status_and_completion_time_in_cursor_pages(
    client: Client, settings: Any, key: str, flow: Flow
) -> None:
    settings.INTEGRATIONS_API_PAGE_SIZE = 2
    for number in range(5):
        Chat.objects.create(flow=flow, identifier=f"p{number}", status=Chat.Status.COMPLETED)
    Chat.objects.create(flow=flow, identifier="open")
    seen, url = [], f"/api/v1/flows/{flow.pk}/chats/?status=completed"
    while url:
        page = get(client, url, key).json()
        assert len(page["results"]) <= 2
        seen += [item["identifier"] for item in page["results"]]
        url = page["next"]
    assert sorted(seen) == ["p0", "p1", "p2", "p3", "p4"]
    later = (timezone.now() + timedelta(hours=1)).isoformat()
    page = get(client, f"/api/v1/flows/{flow.pk}/chats/?completedSince={later.replace('+', '%2B')}", key).json()
    assert page["results"] == []


@pytest.mark.parametrize(
    "query", ["status=done", "completedSince=yesterday", "completedSince=2026-13-01", "cursor=garbage", "limit=x"]
)
def test_bad_parameters_are_a_json_400_never_a_500(client: Client, key: str, flow: Flow, query: str) -> None:
    response = get(client, f"/api/v1/flows/{flow.pk}/chats/?{query}", key)
    assert response.status_code in {400, 404}, response.content
    assert response["Content-Type"] == "application/json"


def test_unknown_api_paths_are_a_json_404(client: Client, key: str) -> None:
    for url in ("/api/", "/api/v1/", "/api/v1/nothing/", "/api/v2/flows/"):
        response = get(client, url, key)
        assert response.status_code == 404, url
        assert response["Content-Type"] == "application/json", url


def test_detail_reads_carry_an_etag_and_answer_304_when_unchanged(
    client: Client, key: str, flow: Flow, completed_chat: Chat
) -> None:
    url = f"/api/v1/flows/{flow.pk}/chats/alice/"
    first = get(client, url, key)
    etag = first["ETag"]
    assert get(client, url, key, HTTP_IF_NONE_MATCH=etag).status_code == 304
    completed_chat.score = 2
    completed_chat.save()
    assert get(client, url, key, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_each_key_has_its_rate_then_429_with_retry_after(
    client: Client, settings: Any, account: Account, key: str
) -> None:
    settings.INTEGRATIONS_API_RATE = "3/minute"
    answers = [get(client, "/api/v1/flows/", key).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    refused = get(client, "/api/v1/flows/", key)
    assert int(refused["Retry-After"]) > 0
    assert "throttled" in refused.json()["detail"]
    other_key = api_key_create(account_id=account.pk, name="other")[1]
    assert get(client, "/api/v1/flows/", other_key).status_code == 200  # another key, its own count


def test_an_unexpected_error_under_the_api_is_json_too(key: str, monkeypatch: Any) -> None:
    from integrations.contrib.api.events import EventList

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(EventList, "get", broken)
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/events/", HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert "a bug" not in response.content.decode()  # no detail of the error leaks
    page = Client(raise_request_exception=False).get("/integrations/")
    assert page["Content-Type"].startswith("text/html")


def test_an_identifier_with_a_slash_can_be_followed_up(client: Client, key: str, flow: Flow) -> None:
    chat = Chat.objects.create(flow=flow, identifier="team/alice", status=Chat.Status.COMPLETED)
    Response.objects.create(chat=chat, prompt=flow.prompts.get(name="capital"), answer="Paris")
    for spelled in ("team/alice", "team%2Falice"):
        body = get(client, f"/api/v1/flows/{flow.pk}/chats/{spelled}/", key).json()
        assert body["identifier"] == "team/alice", spelled
        answer = get(client, f"/api/v1/flows/{flow.pk}/chats/{spelled}/responses/capital/", key).json()
        assert answer["answer"] == "Paris", spelled
