"""Rows written by one plain INSERT are stored exactly as the ORM's save() stores them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.forms.models import model_to_dict

from integrations.models import Delivery, DeliveryAttempt, Event, Webhook
from integrations.rows import rows_insert
from tests.testhost.models import Team, Ticket
from tests.testhost.objects import close

pytestmark = pytest.mark.django_db

TEXTS = ["", "plain", "é ü 漢字 🙂", "line\nbreak\ttab", "x" * 3000, "<b>&amp;</b>"]


def stored(model: Any, pk: Any) -> dict[str, Any]:
    return model_to_dict(model.objects.get(pk=pk), exclude=["id"])


def test_attempts_and_events_read_back_as_the_orm_writes_them(account: Team, webhook: Webhook) -> None:
    close(Ticket.objects.create(team=account, reference="c"))
    delivery = Delivery.objects.get()
    for number, text in enumerate(TEXTS):
        values = {
            "delivery_id": delivery.pk,
            "attempted_at": datetime(2026, 12, 7, 10, 11, 12, 123456 + number, tzinfo=UTC),
            "url": f"https://example.com/{text[:100]}",
            "request_headers": {"webhook-id": text, "n": number},
            "response_headers": {} if number % 2 else {"a": [1, None, True]},
            "succeeded": bool(number % 2),
            "status_code": None if number == 0 else 200 + number,
            "duration_ms": 2**31 - 1 - number,
            "response_body": text,
            "error": text[::-1],
        }
        fast = DeliveryAttempt(**values)
        rows_insert([fast])
        orm = DeliveryAttempt.objects.create(**values)
        fast_pk = DeliveryAttempt.objects.exclude(pk=orm.pk).order_by("-id").values_list("pk", flat=True).first()
        assert stored(DeliveryAttempt, fast_pk) == stored(DeliveryAttempt, orm.pk)

    event = Event(account_id=webhook.account_id, type="ticket.closed", body=TEXTS[2], subject_id=None, subject_key="i")
    rows_insert([event])
    assert not event._state.adding  # saved: a later save() updates it
    read = Event.objects.get(pk=event.pk)
    assert (read.body, read.subject_id, read.subject_key, read.is_example) == (TEXTS[2], None, "i", False)
    assert read.created_at == event.created_at  # auto_now_add applied, as save() would
    event.subject_key = "changed"
    event.save()
    assert Event.objects.get(pk=event.pk).subject_key == "changed"
