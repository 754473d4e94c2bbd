"""The three notifications and their bodies, exactly as the public spec shows them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .adapter import ChatFacts, FeedbackFacts

COMPLETED = "completed"
DELETED = "deleted"
FEEDBACK_UPDATED = "feedbackUpdated"
# Sent only when an admin asks for it ("Send test"), so a receiver can check its set-up.
TEST = "test"
TEST_MESSAGE = "A test notification from DialogForm: your endpoint is set up."
# The types an endpoint subscribes to (a test goes to the one endpoint it is sent to).
EVENT_TYPES = (COMPLETED, DELETED, FEEDBACK_UPDATED)
# The flowId of every example ("Send example"): no real flow has it, so a receiver can tell.
EXAMPLE_FLOW_ID = 0


@dataclass(frozen=True)
class WebhookEvent:
    """A notification for one account; `body` is what receivers get, byte for byte."""

    account_id: int
    type: str
    data: dict[str, Any]

    @property
    def body(self) -> str:
        payload = {"type": self.type, "data": self.data}
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        try:
            body.encode("utf-8")
        except UnicodeEncodeError:
            # A lone surrogate (possible from a shell, never from a browser) cannot be sent as UTF-8;
            # JSON's \u escapes carry it instead.
            body = json.dumps(payload, separators=(",", ":"))
        return body


def chat_completed(*, chat: ChatFacts, score: int | float | None) -> WebhookEvent:
    return WebhookEvent(
        account_id=chat.account_id,
        type=COMPLETED,
        data={"flowId": chat.flow_id, "identifier": chat.identifier, "score": score},
    )


def chat_deleted(*, chat: ChatFacts) -> WebhookEvent:
    return WebhookEvent(
        account_id=chat.account_id, type=DELETED, data={"flowId": chat.flow_id, "identifier": chat.identifier}
    )


def feedback_updated(*, feedback: FeedbackFacts) -> WebhookEvent:
    chat = feedback.chat
    return WebhookEvent(
        account_id=chat.account_id,
        type=FEEDBACK_UPDATED,
        data={"flowId": chat.flow_id, "identifier": chat.identifier, "promptName": feedback.prompt_name},
    )


def webhook_test(*, account_id: int) -> WebhookEvent:
    return WebhookEvent(
        account_id=account_id,
        type=TEST,
        data={"message": TEST_MESSAGE},
    )


def example(*, account_id: int, event_type: str) -> WebhookEvent:
    """The catalog's example of `event_type`, as "Send example" sends it: flowId 0, which no real flow has."""
    data = {**BODY_EXAMPLES[event_type]["data"]}
    if "flowId" in data:
        data["flowId"] = EXAMPLE_FLOW_ID
    return WebhookEvent(account_id=account_id, type=event_type, data=data)


def _body_schema(event_type: str, title: str, description: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "title": title,
        "description": description,
        "type": "object",
        "required": ["type", "data"],
        "additionalProperties": False,
        "properties": {
            "type": {"const": event_type},
            "data": {"type": "object", "required": list(data), "additionalProperties": False, "properties": data},
        },
    }


_FLOW_ID = {"type": "integer", "description": "The flow's id."}
_IDENTIFIER = {"type": "string", "description": "The participant's identifier, from the share link."}

# The bodies receivers get, as JSON Schema (2020-12, as OpenAPI 3.1 uses): the API's schema
# components, so that a receiver can generate types; a test checks the outbox's bodies against them.
BODY_SCHEMAS: dict[str, dict[str, Any]] = {
    COMPLETED: _body_schema(
        COMPLETED,
        "CompletedNotification",
        "A participant completed a chat.",
        {"flowId": _FLOW_ID, "identifier": _IDENTIFIER, "score": {"type": ["number", "null"]}},
    ),
    DELETED: _body_schema(
        DELETED,
        "DeletedNotification",
        "An admin deleted a chat.",
        {"flowId": _FLOW_ID, "identifier": _IDENTIFIER},
    ),
    FEEDBACK_UPDATED: _body_schema(
        FEEDBACK_UPDATED,
        "FeedbackUpdatedNotification",
        "An admin gave, or changed, feedback on a response.",
        {"flowId": _FLOW_ID, "identifier": _IDENTIFIER, "promptName": {"type": "string"}},
    ),
    TEST: _body_schema(
        TEST,
        "TestNotification",
        'Sent when an admin clicks "Send test": check your endpoint receives and verifies it.',
        {"message": {"type": "string"}},
    ),
}
BODY_EXAMPLES: dict[str, dict[str, Any]] = {
    COMPLETED: {"type": COMPLETED, "data": {"flowId": 12, "identifier": "alice@example.com", "score": 7}},
    DELETED: {"type": DELETED, "data": {"flowId": 12, "identifier": "alice@example.com"}},
    FEEDBACK_UPDATED: {
        "type": FEEDBACK_UPDATED,
        "data": {"flowId": 12, "identifier": "alice@example.com", "promptName": "capital"},
    },
    TEST: {"type": TEST, "data": {"message": TEST_MESSAGE}},
}
