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
        data={"message": "A test notification from DialogForm: your endpoint is set up."},
    )
