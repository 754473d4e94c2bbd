"""Property-based tests: whatever is typed or stored, the guard and the payloads behave."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations import events
from integrations.catalog import Built
from integrations.destinations import BLOCKED_NETWORKS, address_is_public
from integrations.validators import validate_webhook_url
from tests.testhost.integrations import TICKET_CLOSED, closed_data

# The fixtures used (fake DNS, settings) hold no state that one example could leave for the next.
examples = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

unicode_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=300)


@pytest.fixture
def guarded(settings: Any) -> None:
    settings.INTEGRATIONS_ALLOW_PRIVATE_URLS = False


def verdict(url: str) -> bool:
    try:
        validate_webhook_url(url)
    except ValidationError:
        return False
    return True


@examples
@given(url=st.one_of(st.text(max_size=200), unicode_text))
def test_any_text_is_accepted_or_refused_with_a_message(url: str, guarded: None) -> None:
    try:
        validate_webhook_url(url)
    except ValidationError as error:
        assert error.messages and all(message for message in error.messages)


url_parts = st.tuples(
    st.sampled_from(["http", "https", "ftp", "HTTP", "javascript", "", "file"]),
    st.one_of(st.ip_addresses().map(lambda a: f"[{a}]" if a.version == 6 else str(a)), st.text(max_size=30)),
    st.one_of(st.none(), st.integers(min_value=-1, max_value=70000)),
    st.text(max_size=50),
)


@examples
@given(parts=url_parts)
def test_an_accepted_url_is_http_with_a_public_host_and_nothing_odd(parts: tuple[Any, ...], guarded: None) -> None:
    scheme, host, port, path = parts
    url = f"{scheme}://{host}{'' if port is None else f':{port}'}/{path}"
    if not verdict(url):
        return
    from urllib.parse import urlsplit

    split = urlsplit(url)
    assert split.scheme in {"http", "https"}
    assert split.hostname
    assert not any(char.isspace() for char in url)
    assert len(url) <= 2000
    assert address_is_public(ipaddress.ip_address(split.hostname))  # only IP literals resolve here


@examples
@given(address=st.ip_addresses())
def test_an_ip_literal_is_accepted_exactly_when_public(address: Any, guarded: None) -> None:
    host = f"[{address}]" if address.version == 6 else str(address)
    assert verdict(f"https://{host}/hook") == address_is_public(address)


@examples
@given(address=st.ip_addresses(v=4))
def test_odd_ipv4_spellings_get_the_same_verdict(address: ipaddress.IPv4Address, guarded: None) -> None:
    dotted = verdict(f"http://{address}/")
    assert verdict(f"http://{int(address)}/") == dotted
    assert verdict(f"http://{int(address):#x}/") == dotted
    assert verdict(f"http://[::ffff:{address}]/") == dotted


@examples
@given(data=st.data())
def test_every_address_of_a_blocked_network_is_refused(data: st.DataObject, guarded: None) -> None:
    network = data.draw(st.sampled_from(BLOCKED_NETWORKS))
    address = data.draw(st.ip_addresses(network=network))
    host = f"[{address}]" if address.version == 6 else str(address)
    assert not verdict(f"https://{host}/")


def roundtrip(event: events.WebhookEvent) -> Any:
    raw = event.body.encode("utf-8")  # what goes on the wire: always valid UTF-8
    return json.loads(raw)


ids = st.integers(min_value=1, max_value=2**63 - 1)
ratings = st.one_of(st.none(), st.integers(min_value=-(2**31), max_value=2**31))


@given(ticket_id=ids, reference=unicode_text, rating=ratings)
def test_a_body_is_always_valid_json_of_its_declared_shape(ticket_id: int, reference: str, rating: Any) -> None:
    """Whatever text a host's object holds (lone surrogates, NUL, any script), its body is valid JSON in UTF-8."""
    data = closed_data(ticket_id=ticket_id, reference=reference, rating=rating)
    body = roundtrip(events.built(TICKET_CLOSED, Built(1, data)))
    assert body["type"] == "ticket.closed" and body["data"].keys() == data.keys()
    assert (body["data"]["ticketId"], body["data"]["rating"]) == (ticket_id, rating)
    assert body["data"]["reference"] == reference
