"""A claimed delivery as the sender holds it: the few values sending and recording read, not a model instance.

Read in one query with its event's body (a model instance would cost more to build than the POST).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Claimed:
    id: int
    webhook_id: int
    account_id: int | None
    claim_token: uuid.UUID
    attempt_count: int
    claims_without_attempt: int
    created_at: datetime
    resend_count: int
    event_id: uuid.UUID
    body: str

    @property
    def pk(self) -> int:
        return self.id

    @property
    def msg_id(self) -> str:
        """The `webhook-id` header: the same on every attempt (Event.msg_id)."""
        return f"msg_{self.event_id.hex}"


# What a claim reads of each row, in Claimed's order.
CLAIMED_COLUMNS = (
    "id",
    "webhook_id",
    "account_id",
    "claim_token",
    "attempt_count",
    "claims_without_attempt",
    "created_at",
    "resend_count",
    "event_id",
    "event__body",
)
