"""The three notifications and their bodies, exactly as the public spec shows them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

COMPLETED = "completed"
DELETED = "deleted"
FEEDBACK_UPDATED = "feedbackUpdated"
# Sent only when an admin asks for it ("Send test"), so a receiver can check its set-up.
TEST = "test"
EVENT_TYPES = (COMPLETED, DELETED, FEEDBACK_UPDATED, TEST)


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


def chat_completed(*, account_id: int, flow_id: int, identifier: str, score: int | float | None) -> WebhookEvent:
    return WebhookEvent(
        account_id=account_id,
        type=COMPLETED,
        data={"flowId": flow_id, "identifier": identifier, "score": score},
    )


def chat_deleted(*, account_id: int, flow_id: int, identifier: str) -> WebhookEvent:
    return WebhookEvent(account_id=account_id, type=DELETED, data={"flowId": flow_id, "identifier": identifier})


def feedback_updated(*, account_id: int, flow_id: int, identifier: str, prompt_name: str) -> WebhookEvent:
    return WebhookEvent(
        account_id=account_id,
        type=FEEDBACK_UPDATED,
        data={"flowId": flow_id, "identifier": identifier, "promptName": prompt_name},
    )


def webhook_test(*, account_id: int) -> WebhookEvent:
    return WebhookEvent(
        account_id=account_id,
        type=TEST,
        data={"message": "A test notification from DialogForm: your endpoint is set up."},
    )
