"""Standard Webhooks signing: the headers that let a receiver check who sent a request."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import standardwebhooks
from django.views.decorators.debug import sensitive_variables

from . import __version__

USER_AGENT = f"DialogForm-Webhooks/{__version__}"


# Error reports (the debug page, the emails to ADMINS) show local variables; never these.
@sensitive_variables("secret", "secrets")
def sign(*, msg_id: str, timestamp: int, body: str, secrets: Sequence[str]) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per valid secret, space-separated."""
    when = datetime.fromtimestamp(timestamp, tz=UTC)
    return " ".join(standardwebhooks.Webhook(secret).sign(msg_id, when, body) for secret in secrets)


@sensitive_variables("secrets")
def request_headers(*, msg_id: str, timestamp: int, body: str, secrets: Sequence[str]) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(msg_id=msg_id, timestamp=timestamp, body=body, secrets=secrets),
    }
