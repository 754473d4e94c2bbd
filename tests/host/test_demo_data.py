"""`manage.py demo_data`: what `make run` creates so a newcomer can try the whole path."""

from __future__ import annotations

import io
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command

from accounts.models import Membership
from chats.models import Chat, Flow
from integrations.models import Webhook


def test_creates_an_admin_a_flow_a_chat_and_a_webhook_and_prints_the_login(db: None) -> None:
    out = io.StringIO()
    call_command("demo_data", "--password", "demo-pass-123", stdout=out)
    assert "username: admin" in out.getvalue()
    assert "password: demo-pass-123" in out.getvalue()
    user = get_user_model().objects.get(username="admin")
    assert user.check_password("demo-pass-123")
    assert user.is_staff
    membership = Membership.objects.get(user=user)
    assert membership.role == Membership.Role.ADMIN
    quiz, survey = Flow.objects.get(name="Capitals quiz"), Flow.objects.get(name="Welcome survey")
    assert quiz.account == survey.account == membership.account
    assert [p.is_scored for p in quiz.prompts.all()] == [True, True, True]
    assert [p.is_scored for p in survey.prompts.all()] == [False, False, False]
    assert Chat.objects.get().status == Chat.Status.IN_PROGRESS
    assert f"/c/{quiz.share_token}/?identifier=alice" in out.getvalue()
    assert Webhook.objects.get().url == "http://127.0.0.1:9000/"


def test_running_it_again_changes_only_the_password(db: None) -> None:
    call_command("demo_data", stdout=io.StringIO())
    secret = Webhook.objects.get().secret
    out = io.StringIO()
    call_command("demo_data", stdout=out)
    assert (Flow.objects.count(), Chat.objects.count(), Webhook.objects.count()) == (2, 1, 1)
    assert Webhook.objects.get().secret == secret
    password = out.getvalue().split("password: ")[1].split()[0]
    assert get_user_model().objects.get(username="admin").check_password(password)


def test_demo_data_prints_a_working_api_key_with_a_curl_line(db: None, client: Any) -> None:
    out = io.StringIO()
    call_command("demo_data", stdout=out)
    call_command("demo_data", stdout=(second := io.StringIO()))

    def printed_key(output: str) -> str:
        line = next(line for line in output.splitlines() if "api/v1/events/" in line)
        return line.split("Api-Key ")[1].split('"')[0]

    key = printed_key(second.getvalue())
    assert client.get("/api/v1/events/", HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 200
    # The last run's key was revoked: demo keys do not pile up.
    assert client.get("/api/v1/events/", HTTP_AUTHORIZATION=f"Api-Key {printed_key(out.getvalue())}").status_code == 401
