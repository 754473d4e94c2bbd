"""The API's OpenAPI 3.1 contract: it validates, schemathesis finds no server error and no answer off the schema,
and the notification bodies in it are the ones the outbox sends."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
import schemathesis
import yaml
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from accounts.models import Account
from chats.models import Chat, Feedback, Flow, Response
from integrations.adapter import event_type, every_type
from integrations.contrib.api.keys import api_key_create
from integrations.models import Event, Webhook
from tests.helpers import our_cursors

# Bounded: every operation gets this many generated cases, positive and negative, on both databases.
EXAMPLES_PER_OPERATION = 20


@pytest.fixture
def api_key(db: None, settings: Any, account: Account, flow: Flow) -> str:
    """An account with a webhook, a completed chat with answers and feedback, its events, and a key."""
    settings.INTEGRATIONS_API_RATE = "100000/minute"  # schemathesis is not to measure the rate limit
    Webhook.objects.create(account=account, url="http://127.0.0.1:9/hook")
    chat = Chat.objects.create(flow=flow, identifier="alice")
    capital = flow.prompts.get(name="capital")
    Feedback.objects.create(response=Response.objects.create(chat=chat, prompt=capital, answer="Paris"), text="Yes")
    chat.status = Chat.Status.COMPLETED
    chat.save()
    return api_key_create(account_id=account.pk, name="schemathesis")[1]


def test_the_api_keeps_its_schema(api_key: str, subtests: Any) -> None:
    """schemathesis, every operation, valid and invalid input, all its checks.

    Driven through Hypothesis directly: schemathesis's pytest plugin does not run on our pytest (9.x).
    """
    # As Django's test client does: the test's database connection must outlive each request.
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        _run_schemathesis(api_key, subtests)
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


def _run_schemathesis(api_key: str, subtests: Any) -> None:
    config = schemathesis.Config.from_dict(
        {
            # The key, through the schema's own security scheme, so that schemathesis knows it is there.
            "auth": {"openapi": {"ApiKey": {"api_key": f"Api-Key {api_key}"}}},
            # Unknown headers (a proxy's, a tracing id) are accepted, as HTTP expects; NUL is refused in
            # every part of every request (a 400, docs/security.md), so it is no valid input to generate.
            "generation": {"allow-extra-parameters": False, "allow-x00": False},
            # A webhook's URL may be well formed and still refused: a private address, a name that does not
            # resolve (the SSRF guard). That 400 is the contract, though no schema can say which URLs pass.
            "operations": [
                {
                    "include-path-regex": "^/api/v1/webhooks/",
                    "include-method-regex": "^(POST|PATCH)$",
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": ["2xx", "400", "401", "404", "429"],
                        }
                    },
                }
            ],
        }
    )
    # The lists' `cursor` (format "cursor"): cursors the API could have written, so that positive cases page on
    # (any other value is a 400, which the negative cases and tests/host/test_api_input.py try).
    schemathesis.openapi.format("cursor", our_cursors)
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=config)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(generation_mode=mode)

            @given(case=strategy)
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case: Any) -> None:
                case.call_and_validate()

            with subtests.test(operation=operation.label, mode=str(mode)):
                check()


def test_the_schema_is_openapi_3_1_and_documents_every_endpoint(client: Client, db: None) -> None:
    response = client.get("/api/schema/")
    assert response.status_code == 200
    document = yaml.safe_load(response.content)
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    for path in (
        "/api/v1/flows/",
        "/api/v1/flows/{flow_id}/chats/{identifier}/",
        "/api/v1/flows/{flow_id}/chats/{identifier}/responses/{prompt_name}/",
        "/api/v1/events/",
        "/api/v1/events/{msg_id}/",
        "/api/v1/webhooks/",
        "/api/v1/deliveries/{delivery_id}/resend/",
    ):
        assert path in paths, path
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert {"401", "404", "429"} <= set(operation["responses"]), (method, path)
            assert operation.get("summary"), (method, path)
    assert set(document["webhooks"]) == {"completed", "deleted", "feedbackUpdated", "test"}
    # The follow-up calls show an example answer; every error answer shows one.
    for path in ("/api/v1/flows/{flow_id}/chats/{identifier}/", "/api/v1/events/{msg_id}/"):
        assert paths[path]["get"]["responses"]["200"]["content"]["application/json"]["examples"], path
    for path, operations in paths.items():
        for method, operation in operations.items():
            for status in ("401", "404", "429"):
                assert operation["responses"][status]["content"]["application/json"]["examples"], (method, path)


def test_the_docs_page_is_served_from_our_own_static_files(client: Client, db: None) -> None:
    page = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/redoc/" in page and 'lang="en"' in page
    assert "cdn" not in page.lower()


@pytest.mark.django_db(transaction=True)
def test_the_bodies_the_outbox_sends_match_the_schema_components(client: Client, account: Account, flow: Flow) -> None:
    document = yaml.safe_load(client.get("/api/schema/").content)
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9/hook")
    chat = Chat.objects.create(flow=flow, identifier="zoë 🙂", status=Chat.Status.COMPLETED, score=None)
    Feedback.objects.create(response=Response.objects.create(chat=chat, prompt=flow.prompts.first(), answer="x"))
    chat.delete()
    from integrations.outbox import webhook_send_test

    webhook_send_test(webhook=webhook)
    sent = {event.type: json.loads(event.body) for event in Event.objects.all()}
    assert set(sent) == {declared.name for declared in every_type()}
    for name, body in sent.items():
        component = document["components"]["schemas"][event_type(name).schema_title]
        jsonschema.validate(body, component)
        jsonschema.validate(event_type(name).example_body, component)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"type": "completed", "data": {"flowId": "1", "identifier": "a", "score": None}}, component)
