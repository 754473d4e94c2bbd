"""The three notification bodies, byte for byte as the public spec shows them."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from chats.integrations import COMPLETED, DELETED, FEEDBACK_UPDATED, completed_data, deleted_data, feedback_data
from integrations import events
from integrations.catalog import Built


def test_completed_body_is_exactly_the_spec_shape() -> None:
    event = events.built(COMPLETED, Built(1, completed_data(flow_id=12, identifier="abc", score=7)))
    assert json.loads(event.body) == {"type": "completed", "data": {"flowId": 12, "identifier": "abc", "score": 7}}


def test_completed_score_may_be_null() -> None:
    event = events.built(COMPLETED, Built(1, completed_data(flow_id=12, identifier="abc", score=None)))
    assert json.loads(event.body)["data"]["score"] is None
    assert '"score":null' in event.body


def test_deleted_body_is_exactly_the_spec_shape() -> None:
    event = events.built(DELETED, Built(1, deleted_data(flow_id=3, identifier="x y")))
    assert json.loads(event.body) == {"type": "deleted", "data": {"flowId": 3, "identifier": "x y"}}


def test_feedback_updated_body_is_exactly_the_spec_shape() -> None:
    event = events.built(FEEDBACK_UPDATED, Built(1, feedback_data(flow_id=3, identifier="id", prompt_name="Capital")))
    assert json.loads(event.body) == {
        "type": "feedbackUpdated",
        "data": {"flowId": 3, "identifier": "id", "promptName": "Capital"},
    }


def test_unicode_is_sent_as_utf8_not_escaped() -> None:
    event = events.built(DELETED, Built(1, deleted_data(flow_id=3, identifier="Zoë 🙂")))
    assert "Zoë 🙂" in event.body
    assert json.loads(event.body.encode())["data"]["identifier"] == "Zoë 🙂"


def test_a_lone_surrogate_still_makes_valid_utf8_json() -> None:
    event = events.built(DELETED, Built(1, deleted_data(flow_id=3, identifier="broken \ud800 text")))
    raw = event.body.encode("utf-8")
    assert json.loads(raw)["data"]["identifier"] == "broken \ud800 text"


# Whatever is typed or stored, DialogForm's bodies keep their documented shape (moved from the app's
# property tests: they are DialogForm's contract).

unicode_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=300)


def roundtrip(event: events.WebhookEvent) -> Any:
    raw = event.body.encode("utf-8")  # what goes on the wire: always valid UTF-8
    return json.loads(raw)


ids = st.integers(min_value=1, max_value=2**63 - 1)
scores = st.one_of(st.none(), st.integers(min_value=-(2**31), max_value=2**31))


@given(flow_id=ids, identifier=unicode_text, score=scores)
def test_completed_is_always_valid_json_of_the_documented_shape(flow_id: int, identifier: str, score: Any) -> None:
    body = roundtrip(
        events.built(COMPLETED, Built(1, completed_data(flow_id=flow_id, identifier=identifier, score=score)))
    )
    assert body == {"type": "completed", "data": {"flowId": flow_id, "identifier": identifier, "score": score}}


@given(flow_id=ids, identifier=unicode_text)
def test_deleted_is_always_valid_json_of_the_documented_shape(flow_id: int, identifier: str) -> None:
    body = roundtrip(events.built(DELETED, Built(1, deleted_data(flow_id=flow_id, identifier=identifier))))
    assert body == {"type": "deleted", "data": {"flowId": flow_id, "identifier": identifier}}


@given(flow_id=ids, identifier=unicode_text, prompt_name=unicode_text)
def test_feedback_updated_is_always_valid_json_of_the_documented_shape(
    flow_id: int, identifier: str, prompt_name: str
) -> None:
    body = roundtrip(
        events.built(
            FEEDBACK_UPDATED, Built(1, feedback_data(flow_id=flow_id, identifier=identifier, prompt_name=prompt_name))
        )
    )
    assert body == {
        "type": "feedbackUpdated",
        "data": {"flowId": flow_id, "identifier": identifier, "promptName": prompt_name},
    }
