"""Standard Webhooks signatures, checked with the standardwebhooks library that receivers use."""

from __future__ import annotations

import base64
import time

import pytest
import standardwebhooks
from hypothesis import given, settings
from hypothesis import strategies as st

import integrations
from integrations.models import new_signing_secret
from integrations.sending.signing import request_headers


def test_headers_verify_with_the_standardwebhooks_library() -> None:
    secret = new_signing_secret()
    body = '{"type":"ticket.deleted","data":{"ticketId":1,"reference":"a"}}'
    headers = request_headers(msg_id="msg_1", timestamp=int(time.time()), body=body, secrets=[secret])
    assert standardwebhooks.Webhook(secret).verify(body, headers) == {
        "type": "ticket.deleted",
        "data": {"ticketId": 1, "reference": "a"},
    }
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == f"Django-Webhooks/{integrations.__version__}"
    assert headers["webhook-id"] == "msg_1"


def test_another_secret_or_a_changed_body_does_not_verify() -> None:
    secret = new_signing_secret()
    headers = request_headers(msg_id="msg_1", timestamp=int(time.time()), body="{}", secrets=[secret])
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(new_signing_secret()).verify("{}", headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(secret).verify('{"x":1}', headers)


def test_every_valid_secret_signs_space_separated() -> None:
    old, new = new_signing_secret(), new_signing_secret()
    headers = request_headers(msg_id="msg_2", timestamp=int(time.time()), body="{}", secrets=[new, old])
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        standardwebhooks.Webhook(secret).verify("{}", headers)


def test_secrets_are_whsec_and_32_random_bytes() -> None:
    secret = new_signing_secret()
    assert secret.startswith("whsec_")
    assert len(standardwebhooks.Webhook(secret)._whsecret) == 32
    assert secret != new_signing_secret()


@settings(max_examples=200, deadline=None)
@given(
    msg_id=st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    timestamp=st.integers(min_value=0, max_value=253_402_300_799),  # to the last second of 9999
    body=st.text(alphabet=st.characters(codec="utf-8"), max_size=500),
    secret=st.binary(min_size=1, max_size=64),
)
def test_the_signature_is_the_standardwebhooks_librarys_for_any_id_time_and_body(
    msg_id: str, timestamp: int, body: str, secret: bytes
) -> None:
    """Our signing (one OpenSSL call per secret) gives exactly what the reference library gives."""
    from datetime import UTC, datetime

    from integrations.sending.signing import sign

    whsec = "whsec_" + base64.b64encode(secret).decode()
    expected = standardwebhooks.Webhook(whsec).sign(msg_id, datetime.fromtimestamp(timestamp, tz=UTC), body)
    assert sign(msg_id=msg_id, timestamp=timestamp, body=body, secrets=[whsec]) == expected
    unpadded = whsec.rstrip("=")  # a secret written without base64's padding means the same key
    assert sign(msg_id=msg_id, timestamp=timestamp, body=body, secrets=[unpadded]) == expected
