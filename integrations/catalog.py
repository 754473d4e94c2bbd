"""The event catalog: every type of notification the host sends, each declared once, by the host.

An `EventType` is one record: its name (the body's `type`), title, description, the JSON Schema of
its `data`, an example, and how it is built from a change of the host's models (`OnSave`,
`OnDelete`). The host's adapter lists its types in `event_types`; the pages, the API's schema, the
validators, the subscriptions, "Send example" and the model receivers all read them through
integrations.adapter (`subscribable()`, `event_type()`).
The app adds one type of its own, `test` ("Send test"), which no endpoint subscribes to.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .conf import conf

TEST = "test"


@dataclass(frozen=True)
class Built:
    """What one change of a host's object is news for: whose account, and the body's `data`."""

    account_id: int
    data: dict[str, Any]


@dataclass(frozen=True)
class OnSave:
    """News when a save changes what `state` says of the object (a created object counts as changed),
    and only while `when` holds for the object as saved.

    `fields` are the fields `state` reads: the stored row is read with only those, before the save,
    and `manage.py check` checks they exist. A save for which `when` is false reads nothing.
    """

    model: str
    build: Callable[[Any], Built]
    state: Callable[[Any], object]
    fields: tuple[str, ...] = ()
    when: Callable[[Any], bool] = field(default=lambda instance: True)


@dataclass(frozen=True)
class OnDelete:
    """News when an object is deleted (one, in bulk, or by a cascade), except when its account is."""

    model: str
    build: Callable[[Any], Built]
    fields: tuple[str, ...] = ()


Trigger = OnSave | OnDelete


@dataclass(frozen=True)
class EventType:
    name: str  # the body's "type": a receiver's code branches on it, so it never changes
    title: str  # what the pages call it, e.g. "Ticket closed"
    description: str  # one sentence: when it is sent
    data: Mapping[str, Any]  # the JSON Schema of each field of the body's `data` (every one is always present)
    example: Mapping[str, Any]  # an example `data`, as the catalog and the API's schema show it
    trigger: Trigger | None = None  # how it is built from a change of the host's models (None: sent by the app)
    # What "Send example" sends, when it should differ from `example` (say, an id no real object has).
    sent_example: Mapping[str, Any] | None = None

    @property
    def schema_title(self) -> str:
        """The body's name in the API's schema: `feedbackUpdated` → FeedbackUpdatedNotification,
        `ticket.closed` → TicketClosedNotification."""
        words = re.split(r"[^A-Za-z0-9]+", self.name)
        return "".join(word[:1].upper() + word[1:] for word in words) + "Notification"

    @property
    def body_schema(self) -> dict[str, Any]:
        """The whole body as JSON Schema (2020-12, as OpenAPI 3.1 uses): what receivers can generate types from."""
        return {
            "title": self.schema_title,
            "description": self.description,
            "type": "object",
            "required": ["type", "data"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": self.name},
                "data": {
                    "type": "object",
                    "required": list(self.data),
                    "additionalProperties": False,
                    "properties": dict(self.data),
                },
            },
        }

    @property
    def example_body(self) -> dict[str, Any]:
        return {"type": self.name, "data": dict(self.example)}

    @property
    def example_sent(self) -> dict[str, Any]:
        return dict(self.example if self.sent_example is None else self.sent_example)


def test_message() -> str:
    return f"A test notification from {conf.PRODUCT_NAME}: your endpoint is set up."


def test_type() -> EventType:
    message = test_message()
    return EventType(
        name=TEST,
        title="Test",
        description='Sent when an admin clicks "Send test": check your endpoint receives and verifies it.',
        data={"message": {"type": "string"}},
        example={"message": message},
    )
