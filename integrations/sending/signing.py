"""Standard Webhooks signing: the headers that let a receiver check who sent a request."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache

import standardwebhooks
from django.views.decorators.debug import sensitive_variables

from .. import __version__
from ..models import Webhook

USER_AGENT = f"DialogForm-Webhooks/{__version__}"


@lru_cache(maxsize=4096)
def _signer(secret: str) -> standardwebhooks.Webhook:
    # Decoding the secret costs as much as signing: once per secret, not per request.
    return standardwebhooks.Webhook(secret)


# Error reports (the debug page, the emails to ADMINS) show local variables; never these.
@sensitive_variables("secret", "secrets")
def sign(*, msg_id: str, timestamp: int, body: str, secrets: Sequence[str]) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per valid secret, space-separated."""
    when = datetime.fromtimestamp(timestamp, tz=UTC)
    return " ".join(_signer(secret).sign(msg_id, when, body) for secret in secrets)


@sensitive_variables("secrets")
def signing_secrets(*, webhook: Webhook, now: datetime) -> list[str]:
    """The secrets every request is signed with: the current one, and the rotated-out ones while they last."""
    retired = [
        entry["secret"] for entry in webhook.retired_secrets if datetime.fromisoformat(entry["expires_at"]) > now
    ]
    return [webhook.secret, *retired]


@sensitive_variables("secrets")
def request_headers(*, msg_id: str, timestamp: int, body: str, secrets: Sequence[str]) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(msg_id=msg_id, timestamp=timestamp, body=body, secrets=secrets),
    }


HIDDEN = "••••••••"


def headers_for_log(headers: dict[str, str], *, custom_names: Sequence[str]) -> dict[str, str]:
    """The request's headers as the delivery log shows them: each signature cut short, custom values hidden.

    A full signature is useless to a reader and a custom header may hold a credential: neither is kept.
    """
    shown = {name: HIDDEN for name in custom_names}
    for name, value in headers.items():
        if name == "webhook-signature":
            value = " ".join(f"{signature[:11]}…" for signature in value.split())
        shown[name] = value
    return shown
