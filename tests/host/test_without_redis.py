"""With Redis down, no URL answers 500: every URL of the project is tried as its rightful user.

The pages go on (an action that needs the rate limiter says it is paused), the API reads and writes
(its throttle fails open) and refuses the actions that send with a 503 and Retry-After, /healthz
says 503, /metrics still answers, and the operators' queue dashboard says Redis is unreachable.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.host import test_isolation
from tests.host.test_isolation import API_KEY_HOLDERS, OPERATORS, every_url, url_patterns

theirs = test_isolation.theirs  # the fixture: an account with a bit of everything, and its admin and key

pytestmark = [pytest.mark.django_db, pytest.mark.once]  # Redis at fault; the database plays no part

METRICS_TOKEN = "m" * 40
# Answers that say the service is unavailable for now, and when to come back.
UNAVAILABLE = {"healthz", "api:webhook_test", "api:webhook_example", "api:webhook_recover", "api:delivery_resend"}


@pytest.fixture
def metrics_on(settings: Any) -> None:
    settings.INTEGRATIONS_METRICS_TOKEN = METRICS_TOKEN


def test_every_url_answers_without_redis(
    client: Client, theirs: dict[str, Any], django_user_model: Any, redis_down: None, metrics_on: None
) -> None:
    owner = django_user_model.objects.get(username="rival-admin")
    headers_for = {
        **{name: {"HTTP_AUTHORIZATION": f"Api-Key {theirs['key']}"} for name in API_KEY_HOLDERS},
        **{name: {"HTTP_AUTHORIZATION": f"Bearer {METRICS_TOKEN}"} for name in OPERATORS},
    }
    # The actions the pages offer are refused in words, and nothing is sent.
    client.force_login(owner)
    page = client.post(reverse("integrations:endpoint_send_test", args=[theirs["webhook"].pk]), follow=True)
    assert "our rate limiter is unavailable right now" in page.content.decode()

    urls = every_url(theirs)
    # Reads first, then what changes things; what deletes, last (the pages after it would be 404s).
    last = ("delete", "revoke", "logout")
    calls = [("get", name, url) for name, url in urls] + sorted(
        (("post", name, url) for name, url in urls), key=lambda call: any(word in call[1] for word in last)
    )
    tried = 0
    for method, name, url in calls:
        client.force_login(owner)
        answer = getattr(client, method)(url, **headers_for.get(name, {}))
        if answer.status_code == 503:
            assert name in UNAVAILABLE, (method, name)
            if name != "healthz":
                assert answer["Retry-After"] == "30", (method, name)
        else:
            assert answer.status_code < 500, (method, name, answer.status_code)
        tried += 1
    assert tried > 80


def test_the_operators_queue_dashboard_says_redis_is_unreachable(
    client: Client, django_user_model: Any, redis_down: None
) -> None:
    superuser = django_user_model.objects.create_superuser(username="root", password="x" * 20)
    client.force_login(superuser)
    tried = 0
    for name, pattern, namespace in url_patterns():
        if namespace != "django_rq" or pattern.pattern.converters:
            continue
        answer = client.get(reverse(name))
        assert answer.status_code in {200, 503}, (name, answer.status_code)
        tried += 1
    assert tried >= 3
    assert client.get("/admin/").status_code == 200
