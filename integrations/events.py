"""A notification and its body: what receivers get, byte for byte."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import adapter, catalog


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


def built(event_type: catalog.EventType, made: catalog.Built) -> WebhookEvent:
    """The notification a host's change makes: what its event type's trigger built from it."""
    return WebhookEvent(account_id=made.account_id, type=event_type.name, data=made.data)


def webhook_test(*, account_id: int) -> WebhookEvent:
    return WebhookEvent(account_id=account_id, type=catalog.TEST, data={"message": catalog.test_message()})


def example(*, account_id: int, event_type: str) -> WebhookEvent:
    """The catalog's example of `event_type`, as "Send example" sends it."""
    return WebhookEvent(account_id=account_id, type=event_type, data=adapter.event_type(event_type).example_sent)
