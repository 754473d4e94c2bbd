"""Whatever an API client sends, every operation of the API answers with its result or a 400 in the
documented shape, never a 500: any cursor, JSON nested deep, a body too large, a list of any length,
numbers in any digits. The operations are read from the OpenAPI schema, so a new one is tried too.
Runs on SQLite and on PostgreSQL (`make test`): a cursor's position reaches the database.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account
from chats.models import Chat, Feedback, Flow, Response
from integrations.contrib.api.keys import api_key_create
from integrations.contrib.api.parsers import JSON_DEPTH_MAX
from integrations.models import Delivery, Event, Webhook
from tests.helpers import api_cursor
from tests.host.test_isolation import snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings: Any, account: Account, flow: Flow) -> dict[str, Any]:
    """An account with two completed chats (answers, feedback), a webhook with deliveries, and a key."""
    settings.INTEGRATIONS_API_RATE = "100000/minute"
    settings.INTEGRATIONS_ACTION_RATE = "100000/m"
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9/hook")
    for identifier in ("alice", "bob"):
        chat = Chat.objects.create(flow=flow, identifier=identifier)
        capital = flow.prompts.get(name="capital")
        Feedback.objects.create(response=Response.objects.create(chat=chat, prompt=capital, answer="Paris"), text="!")
        chat.status = Chat.Status.COMPLETED
        chat.save()
    key = api_key_create(account_id=account.pk, name="walker")[1]
    return {
        "key": key,
        "account": account,
        "path": {
            "flow_id": flow.pk,
            "identifier": "alice",
            "prompt_name": "capital",
            "webhook_id": webhook.pk,
            "delivery_id": Delivery.objects.filter(webhook=webhook).first().pk,  # type: ignore[union-attr]
            "msg_id": Event.objects.first().msg_id,  # type: ignore[union-attr]
        },
    }


def operations(client: Client) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(method, path template, operation, the whole schema) of every operation the schema documents."""
    document = yaml.safe_load(client.get("/api/schema/").content)
    return [
        (method, path, operation, document)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def call(client: Client, world: dict[str, Any], method: str, path: str, *, query: str = "", body: Any = None) -> Any:
    url = path.format(**{name: quote(str(value), safe="") for name, value in world["path"].items()})
    data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
    return client.generic(
        method.upper(),
        url + (f"?{query}" if query else ""),
        data=data or "",
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {world['key']}",
    )


def list_paths(client: Client) -> list[str]:
    return [
        path
        for method, path, operation, _ in operations(client)
        if method == "get" and any(parameter["name"] == "cursor" for parameter in operation.get("parameters", []))
    ]


# Positions a client could write: ours (any datetime), odd ones, garbage, and Unicode digits.
positions = st.one_of(
    st.datetimes(timezones=st.timezones()).map(str),
    st.sampled_from(
        ["garbage", "0000-01-01", "9999-12-31T23:59:59.999999-14:00", "0001-01-01 00:00:00+14:00", "2026-01-01", ""]
    ),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30),
    st.integers(-(10**30), 10**30).map(str),
)
cursors = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "o": st.one_of(st.integers(-5, 10**20).map(str), st.sampled_from(["٣", "²", "1_0", " 1", ""])),
            "r": st.sampled_from(["0", "1", "2", "", "²"]),
            "p": positions,
        },
    ).map(api_cursor),
    st.text(st.characters(codec="ascii", exclude_characters="\x00"), max_size=40).map(
        lambda text: quote(text, safe="")
    ),
)


def assert_refused(answer: Any, field: str) -> None:
    """The documented 400: {field: [message]} (or {"detail": message} for the request as a whole)."""
    assert answer.status_code == 400, answer.content
    assert answer["Content-Type"] == "application/json"
    errors = answer.json()
    assert list(errors) == [field], errors
    messages = errors[field] if isinstance(errors[field], list) else [errors[field]]
    assert messages and all(isinstance(message, str) and message for message in messages)


@pytest.mark.parametrize(
    "position", ["garbage", "0000-01-01", "9999-12-31T23:59:59.999999-14:00", "2026-01-01 00:00:00", "²"]
)
def test_a_tampered_cursor_is_a_400_on_every_list(client: Client, world: dict[str, Any], position: str) -> None:
    for path in list_paths(client):
        assert_refused(call(client, world, "get", path, query=f"cursor={api_cursor({'p': position})}"), "cursor")


def test_the_cursors_we_write_still_lead_to_the_next_page(client: Client, world: dict[str, Any]) -> None:
    paths = list_paths(client)
    assert len(paths) >= 4  # events, flows, chats, webhooks
    first = call(client, world, "get", "/api/v1/events/", query="limit=1").json()
    second = client.get(first["next"], HTTP_AUTHORIZATION=f"Api-Key {world['key']}")
    assert second.status_code == 200
    back = client.get(second.json()["previous"], HTTP_AUTHORIZATION=f"Api-Key {world['key']}")
    assert back.json()["results"] == first["results"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cursor=cursors)
def test_any_cursor_is_a_page_or_a_400_on_every_list(client: Client, world: dict[str, Any], cursor: str) -> None:
    for path in list_paths(client):
        answer = call(client, world, "get", path, query=f"cursor={cursor}")
        if answer.status_code != 200:
            assert_refused(answer, "cursor")


@pytest.mark.parametrize("value", ["²", "٣", "9" * 40, "-1", "1.5", " 1", "0x10"])
def test_numbers_in_any_digits_are_a_400_on_every_parameter_that_takes_a_number(
    client: Client, world: dict[str, Any], value: str
) -> None:
    tried = 0
    for method, path, operation, _ in operations(client):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and parameter.get("schema", {}).get("type") == "integer":
                assert_refused(
                    call(client, world, method, path, query=f"{parameter['name']}={quote(value)}"), parameter["name"]
                )
                tried += 1
    assert tried >= 5  # limit on four lists, flowId on events


def body_operations(client: Client) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    return [entry for entry in operations(client) if "requestBody" in entry[2]]


def request_schema(operation: dict[str, Any], document: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


DEEP = {
    "arrays": "[" * 3000 + "]" * 3000,
    "objects": '{"a":' * 3000 + "1" + "}" * 3000,
    f"arrays just past the limit ({JSON_DEPTH_MAX + 1})": "[" * (JSON_DEPTH_MAX + 1) + "]" * (JSON_DEPTH_MAX + 1),
    "brackets in a string do not count, the rest does": '{"url": "[[[[", "x": ' + "[" * 50 + "]" * 50 + "}",
}


@pytest.mark.parametrize("body", DEEP.values(), ids=DEEP.keys())
def test_json_nested_deep_is_a_400_on_every_operation_that_takes_a_body(
    client: Client, world: dict[str, Any], body: str
) -> None:
    before = snapshot(world["account"])
    tried = 0
    for method, path, _, _ in body_operations(client):
        answer = call(client, world, method, path, body=body)
        assert_refused(answer, "detail")
        assert "nested more than" in answer.json()["detail"], (method, path)
        tried += 1
    assert tried >= 4  # create, change, example, recover
    assert snapshot(world["account"]) == before


def test_a_body_too_large_or_not_utf8_is_a_400_on_every_operation_that_takes_one(
    client: Client, world: dict[str, Any]
) -> None:
    before = snapshot(world["account"])
    for method, path, _, _ in body_operations(client):
        large = call(client, world, method, path, body=json.dumps({"description": "x" * 70_000}))
        assert_refused(large, "detail")
        assert "larger than 65536 bytes" in large.json()["detail"]
        assert_refused(call(client, world, method, path, body=b'{"description": "\xff"}'), "detail")
        assert_refused(call(client, world, method, path, body='{"dryRun": NaN}'), "detail")
    assert snapshot(world["account"]) == before


def test_every_list_field_of_every_body_is_bounded(client: Client, world: dict[str, Any]) -> None:
    tried = 0
    for method, path, operation, document in body_operations(client):
        properties = request_schema(operation, document).get("properties", {})
        for name, field in properties.items():
            if field.get("type") != "array" or field.get("readOnly"):
                continue
            item = "completed" if name == "event_types" else {"name": "X-Token", "value": "v"}
            before = snapshot(world["account"])
            answer = call(client, world, method, path, body={"url": "http://127.0.0.1:9/", name: [item] * 1000})
            assert_refused(answer, name)
            assert snapshot(world["account"]) == before
            tried += 1
    assert tried >= 4  # event_types and custom_headers, on create and on change


def test_event_types_named_twice_are_kept_once(client: Client, world: dict[str, Any]) -> None:
    path = "/api/v1/webhooks/{webhook_id}/"
    answer = call(client, world, "patch", path, body={"event_types": ["deleted", "completed", "deleted"]})
    assert answer.status_code == 200, answer.content
    assert answer.json()["event_types"] == ["deleted", "completed"]
    assert Webhook.objects.get(pk=world["path"]["webhook_id"]).event_types == ["deleted", "completed"]


@pytest.mark.parametrize(("position", "valid"), [("12", True), ("٣", False), ("9" * 40, False), ("-1", False)])
def test_a_cursor_on_a_whole_number_ordering_takes_only_digits_0_to_9(
    rf: Any, world: dict[str, Any], position: str, valid: bool
) -> None:
    """A host's list may page by an id: its cursor's position is read like every other number."""
    from rest_framework.exceptions import ValidationError
    from rest_framework.request import Request

    from integrations.contrib.api.base import NewestFirstPagination

    class ById(NewestFirstPagination):
        ordering = ("-id",)

    request = Request(rf.get("/", {"cursor": base64.b64encode(f"p={position}".encode()).decode()}))
    pages = ById()
    if valid:
        assert pages.paginate_queryset(Webhook.objects.all(), request) is not None
        assert pages.cursor is not None and pages.cursor.position == 12
    else:
        with pytest.raises(ValidationError):
            pages.paginate_queryset(Webhook.objects.all(), request)


def test_every_number_the_schema_allows_is_accepted_and_the_next_one_refused(
    client: Client, world: dict[str, Any]
) -> None:
    """flowId is a 64-bit column: its largest value is a valid filter (schemathesis found it refused)."""
    largest = 2**63 - 1
    assert call(client, world, "get", "/api/v1/events/", query=f"flowId={largest}").status_code == 200
    assert_refused(call(client, world, "get", "/api/v1/events/", query=f"flowId={largest + 1}"), "flowId")
