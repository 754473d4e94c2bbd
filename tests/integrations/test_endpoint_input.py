"""Whatever an admin types into the endpoint form: a clear error, or something we can send as it is (Hypothesis)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.forms import EndpointForm
from integrations.validators import (
    RESERVED_HEADER_PREFIXES,
    RESERVED_HEADERS,
    url_suggestion,
    validate_custom_headers,
    validate_webhook_url,
)
from tests.helpers import endpoint_form

# Any characters, the awkward ones made likely: controls, line breaks, colons, odd digits and spaces.
AWKWARD = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(list("\x00\r\n\t :;٣\u00a0\u200bé-_AaZz09webhook-Host")),
    ),
    max_size=80,
)
BOUNDED = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@BOUNDED
@given(text=AWKWARD)
def test_custom_headers_are_refused_clearly_or_sendable_as_they_are(text: str) -> None:
    form = EndpointForm(endpoint_form("http://127.0.0.1:9/x", custom_headers=text))
    if not form.is_valid():
        assert form.errors.get("custom_headers") or "url" in form.errors
        return
    headers = form.cleaned_data["custom_headers"] or []
    validate_custom_headers(headers)  # what the model will check again
    for header in headers:
        name, value = header["name"], header["value"]
        assert name.lower() not in RESERVED_HEADERS and not name.lower().startswith(RESERVED_HEADER_PREFIXES)
        assert name.isascii() and value.isascii() and value.isprintable()  # no CR, LF or NUL to split a request


@BOUNDED
@given(text=AWKWARD)
def test_a_maximum_rate_is_a_number_from_1_to_1000_in_ascii_digits_or_an_error(text: str) -> None:
    form = EndpointForm(endpoint_form("http://127.0.0.1:9/x", max_rate=text))
    valid = form.is_valid()
    rate = text.strip()
    expected = rate.isascii() and rate.isdigit() and 1 <= int(rate) <= 1000
    assert valid == expected or (not rate and valid), (text, form.errors)


@BOUNDED
@given(text=AWKWARD)
def test_any_url_is_refused_with_a_message_or_accepted(text: str, settings: Any) -> None:
    settings.INTEGRATIONS_ALLOW_PRIVATE_URLS = True
    assert url_suggestion(text)  # always something to say
    try:
        validate_webhook_url(text)
    except ValidationError as error:
        assert error.messages and all(message.strip() for message in error.messages)


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("htps://hooks.example.com/in", "https://hooks.example.com/in"),
        ("https//hooks.example.com/in", "https://hooks.example.com/in"),
        ("http:/hooks.example.com", "https://hooks.example.com"),
        ("hooks.example.com/in", "https://hooks.example.com/in"),
    ],
)
def test_a_mistyped_protocol_gets_a_suggestion(typed: str, suggested: str) -> None:
    assert f"Did you mean {suggested}?" in url_suggestion(typed)


@pytest.mark.parametrize(
    "name", ["Forwarded", "Via", "X-Real-IP", "Max-Forwards", "X-Forwarded-For", "x-real-ip", "True-Client-IP"]
)
def test_proxy_headers_are_refused_as_custom_headers(name: str) -> None:
    form = EndpointForm(endpoint_form("http://127.0.0.1:9/x", custom_headers=f"{name}: 10.0.0.1"))
    assert not form.is_valid()
    assert "is set by us" in str(form.errors["custom_headers"])
    with pytest.raises(ValidationError, match="is set by us"):
        validate_custom_headers([{"name": name, "value": "10.0.0.1"}])
