"""Standard Webhooks signing: the headers that let a receiver check who sent a request."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

from django.views.decorators.debug import sensitive_variables

from .. import __version__
from ..conf import conf
from ..models import SECRET_PREFIX, Webhook


@lru_cache(maxsize=4096)
def _key(secret: str) -> bytes:
    """The HMAC key a `whsec_…` secret stands for (decoded once per secret, not per request)."""
    # As the Standard Webhooks libraries read it: the prefix is optional, and so is base64's padding.
    # Named so that error reports hide it (`error_reports.SecretsHidingFilter` hides names with "secret").
    decoded_secret = base64.b64decode(secret.removeprefix(SECRET_PREFIX) + "==")
    if not decoded_secret:
        raise ValueError("a webhook secret may not be empty")
    return decoded_secret


# Error reports (the debug page, the emails to ADMINS) show local variables; never these.
@sensitive_variables("secret", "secrets")
def sign(*, msg_id: str, timestamp: int, body: str, secrets: Sequence[str]) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per valid secret, space-separated.

    Standard Webhooks' scheme, computed with one call into OpenSSL per secret (the receivers' tests check
    it with the Standard Webhooks library).
    """
    signed = f"{msg_id}.{timestamp}.{body}".encode()
    digests = (hmac.digest(_key(secret), signed, "sha256") for secret in secrets)
    return " ".join(f"v1,{base64.b64encode(digest).decode()}" for digest in digests)


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
        "User-Agent": f"{conf.USER_AGENT}/{__version__}",
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
