"""Receiver text made storable: whatever comes in, the delivery log can keep it, on either database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.models import Delivery, DeliveryAttempt, Event
from integrations.storable import storable_text

any_text = st.one_of(
    st.text(st.characters(codec=None, exclude_categories=()), max_size=200),  # lone surrogates included
    st.binary(max_size=200),
)


def test_controls_are_shown_as_escapes_and_line_breaks_kept() -> None:
    assert (
        storable_text("HTTP/2\x00x\x1b[1m\x7f\x85 ok\r\n\tnext", limit=100)
        == "HTTP/2\\x00x\\x1b[1m\\x7f\\x85 ok\r\n\tnext"
    )


def test_bytes_are_read_as_utf8_and_surrogates_replaced() -> None:
    assert storable_text("café".encode() + b"\xff", limit=100) == "café\ufffd"
    assert storable_text("a\ud800b", limit=100) == "a\ufffdb"


@settings(max_examples=500, deadline=None)
@given(value=any_text, limit=st.integers(0, 300))
def test_anything_comes_out_bounded_and_encodable(value: str | bytes, limit: int) -> None:
    text = storable_text(value, limit=limit)
    assert len(text) <= limit
    assert "\x00" not in text
    text.encode("utf-8")  # no lone surrogate left


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=any_text)
def test_anything_cleaned_is_stored_and_read_back_unchanged(value: str | bytes, account: object) -> None:
    event = Event.objects.create(account=account, type="test", body="{}")  # type: ignore[misc]
    delivery = Delivery.objects.create(event=event)
    text = storable_text(value, limit=1000)
    attempt = DeliveryAttempt.objects.create(
        delivery=delivery,
        attempted_at=datetime.now(tz=UTC),
        succeeded=False,
        duration_ms=1,
        error=text,
        response_body=text,
    )
    attempt.refresh_from_db()
    assert (attempt.error, attempt.response_body) == (text, text)
