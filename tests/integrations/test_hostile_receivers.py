"""No answer a receiver sends can jam a delivery: every job ends with its attempt on record.

A raw-socket receiver on loopback answers with exactly the bytes a test gives it (broken status
lines, NUL bytes, odd Unicode digits, bad framing, early closes), and the real RQ worker sends to
it. After each job: the job raised nothing, the delivery is no longer claimed, and its attempt is
in the log with a readable, storable error. Runs on SQLite and on PostgreSQL (`make test`).
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rq import SimpleWorker
from rq.registry import FailedJobRegistry

from integrations.models import Delivery, DeliveryAttempt, Webhook
from integrations.queue import wakes_sent, webhooks_queue
from integrations.sending import signing, store
from tests import hostile_receivers
from tests.hostile_receivers import CUT_SHORT, HOSTILE_ANSWERS, RawReceiver, response
from tests.testhost.models import Team, Ticket
from tests.testhost.objects import close

raw_receiver = hostile_receivers.raw_receiver  # the fixture: a raw-socket receiver on loopback

# The worker runs after commit, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def hostile(transactional_db: None, raw_receiver: RawReceiver, settings: Any) -> Callable[[bytes], Delivery]:
    """hostile(answer) -> the delivery, after the real worker sent one event to a receiver answering `answer`."""
    settings.INTEGRATIONS_ATTEMPT_TIMEOUT = 2.0
    settings.INTEGRATIONS_RETRY_SCHEDULE = "3600"  # earlier examples' retries stay out of the way
    account = Team.objects.create(name="Hostile receivers")
    webhook = Webhook.objects.create(account=account, url=raw_receiver.url())
    queue = webhooks_queue()
    count = iter(range(1_000_000))

    def send(answer: bytes) -> Delivery:
        raw_receiver.answer = answer
        # A fresh, healthy endpoint each time: an earlier answer's breaker (or 410) must not hold this one back.
        Webhook.objects.filter(pk=webhook.pk).update(
            is_active=True, disabled_at=None, consecutive_failures=0, failing_since=None, breaker_open_until=None
        )
        close(Ticket.objects.create(team=account, reference=f"ticket-{next(count)}"))
        delivery = Delivery.objects.filter(webhook=webhook).order_by("-id").first()
        assert delivery is not None
        assert wakes_sent(10)
        SimpleWorker([queue], connection=queue.connection).work(burst=True, logging_level="CRITICAL")
        failed_jobs = FailedJobRegistry(queue=queue).get_job_ids()
        assert failed_jobs == [], "the job raised instead of recording the attempt"
        delivery.refresh_from_db()
        return delivery

    return send


def assert_on_record(delivery: Delivery, *, cleaned: bool = True) -> DeliveryAttempt:
    """The attempt is in the log, the claim let go, the delivery on the schedule like any other failure."""
    assert delivery.claimed_until is None and delivery.claim_token is None
    assert delivery.attempt_count == 1
    assert delivery.claims_without_attempt == 0
    [attempt] = delivery.attempts.all()
    if cleaned:
        assert "\x00" not in attempt.error + attempt.response_body
    if attempt.succeeded:
        assert delivery.status == Delivery.Status.SUCCEEDED
    else:
        assert attempt.error, "a failed attempt says why"
        # Retried on the schedule, or failed for good (410 Gone disables the endpoint).
        assert delivery.status == Delivery.Status.FAILED or (
            delivery.status == Delivery.Status.PENDING and delivery.next_attempt_at is not None
        )
    return attempt


@pytest.mark.parametrize("answer", HOSTILE_ANSWERS.values(), ids=HOSTILE_ANSWERS.keys())
def test_a_hostile_answer_ends_as_an_attempt_on_record(hostile: Callable[[bytes], Delivery], answer: bytes) -> None:
    assert_on_record(hostile(answer))


@pytest.mark.parametrize("name", CUT_SHORT)
def test_an_answer_cut_inside_its_header_block_is_a_failure_retried_like_any_other(
    hostile: Callable[[bytes], Delivery], name: str
) -> None:
    delivery = hostile(HOSTILE_ANSWERS[name])
    attempt = assert_on_record(delivery)
    assert not attempt.succeeded
    assert attempt.status_code is None
    assert attempt.error == "Connection failed: The receiver closed the connection in the middle of its answer."
    assert delivery.status == Delivery.Status.PENDING and delivery.next_attempt_at is not None


def test_a_unicode_digit_retry_after_follows_the_schedule(hostile: Callable[[bytes], Delivery], settings: Any) -> None:
    settings.INTEGRATIONS_RETRY_SCHEDULE = "60,600"
    delivery = hostile(HOSTILE_ANSWERS["Retry-After: superscript two"])
    attempt = assert_on_record(delivery)
    assert attempt.status_code == 429
    assert delivery.last_attempt_at is not None and delivery.next_attempt_at is not None
    # The unreadable Retry-After is ignored: the published schedule's first delay applies.
    assert delivery.next_attempt_at - delivery.last_attempt_at == pytest.approx(timedelta(seconds=60), abs=timedelta(2))


def test_the_status_line_with_a_nul_is_shown_escaped(hostile: Callable[[bytes], Delivery]) -> None:
    attempt = assert_on_record(hostile(HOSTILE_ANSWERS["a NUL in the status line"]))
    assert "\\x00" in attempt.error  # what the receiver sent, visible in the log


def test_the_body_is_stored_readable_and_bounded(hostile: Callable[[bytes], Delivery], settings: Any) -> None:
    settings.INTEGRATIONS_RESPONSE_STORE_LIMIT = 100
    body = b"\x00\x1b[1m" + "é".encode() * 500
    attempt = assert_on_record(hostile(response(b"HTTP/1.1 500 Internal", body=body)))
    assert attempt.response_body.startswith("\\x00\\x1b[1mé")
    assert len(attempt.response_body) <= 100


def test_an_error_in_our_own_sender_is_a_failed_attempt_on_record(
    hostile: Callable[[bytes], Delivery], monkeypatch: pytest.MonkeyPatch, raw_receiver: RawReceiver
) -> None:
    # Signing never fails on a valid secret; the failure is forced to stand for any bug of ours.
    def broken(**kwargs: Any) -> dict[str, str]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(signing, "request_headers", broken)
    attempt = assert_on_record(hostile(response(b"HTTP/1.1 200 OK")))
    assert attempt.error == "Not sent: the sender failed (RuntimeError)."
    assert raw_receiver.requests == 0


@pytest.mark.parametrize(
    "answer",
    [b"HTTP/2\x00x 200 OK\r\n\r\n", response(b"HTTP/1.1 200 OK", body=b"fine\x00then")],
    ids=["a failure, written at once", "a success, written with others"],
)
def test_an_attempt_the_database_refuses_is_recorded_plainer(
    hostile: Callable[[bytes], Delivery], monkeypatch: pytest.MonkeyPatch, answer: bytes
) -> None:
    # The last line of defence, reached only if cleaning missed something: cleaning is switched
    # off here so that PostgreSQL refuses the NUL as it would have refused an unforeseen character.
    monkeypatch.setattr(
        store, "storable_text", lambda value, limit: value if isinstance(value, str) else value.decode()
    )
    postgresql = connection.vendor == "postgresql"
    attempt = assert_on_record(hostile(answer), cleaned=postgresql)
    if not postgresql:
        assert "\x00" in attempt.error + attempt.response_body  # SQLite stores a NUL as it is
    elif attempt.succeeded:
        assert attempt.response_body == ""  # left out
        assert attempt.error == "(The answer could not be stored: DataError.)"
    else:
        # The error escaped to plain ASCII, a second way of cleaning that does not depend on the first.
        assert attempt.error.startswith("Connection failed: The answer is not valid HTTP: ")
        assert attempt.error.endswith(": HTTP/2\\x00x 200 OK (The answer could not be stored: DataError.)")


def test_a_delivery_whose_claims_keep_expiring_with_nothing_on_record_fails(
    account: Team, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    """Three workers died mid-attempt on it: the fourth records it as failed instead of sending it again."""
    close(Ticket.objects.create(team=account, reference="doomed"))
    for _ in range(3):  # each claim's worker dies: nothing is recorded, the lease runs out
        [claimed] = store.deliveries_claim({webhook.pk: 1})[webhook.pk]
        Delivery.objects.filter(pk=claimed.pk).update(claimed_until=timezone.now() - timedelta(hours=1))
    run_worker()
    delivery = Delivery.objects.get(webhook=webhook)
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.claimed_until is None
    [attempt] = delivery.attempts.all()
    assert attempt.error.startswith("Not sent again: the last 3 tries to send this notification ended with nothing")
    assert receiver.log == []  # not POSTed a fourth time
    webhook.refresh_from_db()
    assert webhook.consecutive_failures == 1


def test_claims_given_back_unused_do_not_count(
    account: Team, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    close(Ticket.objects.create(team=account, reference="given-back"))
    for _ in range(5):  # a job out of time gives its unused claims back
        store.deliveries_release(store.deliveries_claim({webhook.pk: 1})[webhook.pk])
    run_worker()
    delivery = Delivery.objects.get(webhook=webhook)
    assert (delivery.status, delivery.claims_without_attempt) == (Delivery.Status.SUCCEEDED, 0)
    assert len(receiver.log) == 1


# What Hypothesis sends: an HTTP-ish head (or plain bytes), any headers, any body, any framing,
# cut short anywhere.
header_bytes = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
retry_after = st.one_of(
    st.text(st.characters(max_codepoint=255), max_size=12).map(lambda t: t.encode("latin-1")),  # as sent on the wire
    st.sampled_from([b"\xb2", b"\xb3\xb9", b"120", b"Wed, 21 Oct 2015 07:28:00 GMT", b"Fri, 99 Xyz 2026"]),
    st.integers(-1, 10**20).map(b"%d".__mod__),
)
status_code = st.one_of(
    st.sampled_from([b"200", b"204", b"302", b"400", b"410", b"429", b"500", b"503"]),
    st.integers(-5, 1200).map(b"%d".__mod__),
    st.sampled_from([b"\xb2\xb2\xb2", b"2OO", b"", b"\x00"]),
)
http_version = st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2", b"HTTP/2\x00x", b"ICY", b""])
framing = st.sampled_from(["length", "wrong length", "none", "chunked", "bad chunked", "gzip", "bad gzip"])


@st.composite
def answers(draw: st.DrawFn) -> bytes:
    code = draw(status_code)
    if draw(st.booleans()):
        head = [draw(http_version) + b" " + code + b" " + draw(header_bytes)]
    else:
        head = [draw(header_bytes)]  # a status line that is anything at all
    head += [name + b": " + value for name, value in draw(st.lists(st.tuples(header_bytes, header_bytes), max_size=5))]
    if code in {b"429", b"503"} or draw(st.booleans()):
        head.append(b"Retry-After: " + draw(retry_after).replace(b"\r", b"").replace(b"\n", b""))
    body = draw(st.binary(max_size=300))
    kind = draw(framing)
    if kind == "length":
        head.append(b"Content-Length: %d" % len(body))
    elif kind == "wrong length":
        head.append(b"Content-Length: %d" % draw(st.integers(0, 1000)))
    elif kind in {"chunked", "bad chunked"}:
        head.append(b"Transfer-Encoding: chunked")
        body = (b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)) if kind == "chunked" else b"%s\r\n" % body[:8]
    elif kind in {"gzip", "bad gzip"}:
        head.append(b"Content-Encoding: gzip")
        body = gzip.compress(body) if kind == "gzip" else body
    raw = b"\r\n".join(head) + b"\r\n\r\n" + body
    return raw[: draw(st.integers(0, len(raw)))] if draw(st.booleans()) else raw


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answer=answers())
def test_whatever_a_receiver_answers_the_attempt_is_on_record(
    hostile: Callable[[bytes], Delivery], answer: bytes
) -> None:
    assert_on_record(hostile(answer))
