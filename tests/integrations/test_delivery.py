"""From a host change to a signed POST at a real loopback receiver, through Redis and a real RQ worker."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import standardwebhooks
from django.db import connection, transaction
from werkzeug import Request, Response

import integrations
from integrations.models import Delivery, DeliveryAttempt, Event, Webhook
from tests.helpers import bodies, received
from tests.testhost.models import Note, Team, Ticket
from tests.testhost.objects import close

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_change_arrives_exactly_as_declared_and_signed(
    ticket: Ticket, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    close(ticket, rating=7)
    run_worker()
    [(body, headers, raw)] = received(receiver)
    assert body == {"type": "ticket.closed", "data": {"ticketId": ticket.pk, "reference": "ticket-1", "rating": 7}}
    assert raw == json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()  # compact UTF-8
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == f"Django-Webhooks/{integrations.__version__}"
    verified = standardwebhooks.Webhook(webhook.secret).verify(raw, headers)
    assert verified == body
    assert headers["webhook-id"] == Event.objects.get().msg_id


def test_a_change_is_sent_once_per_transition(
    ticket: Ticket, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    close(ticket, rating=3)
    ticket.save()  # saved again while closed: nothing new
    Ticket.objects.get(pk=ticket.pk).save()
    ticket.closed_at = None
    ticket.save()  # reopened: not news for this host
    close(ticket, rating=4)  # closed again after being reopened: a new transition
    run_worker()
    assert [body["data"]["rating"] for body in bodies(receiver)] == [3, 4]


def test_a_rolled_back_transaction_sends_nothing(
    ticket: Ticket, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        close(ticket)
        assert Event.objects.count() == 1  # the outbox row is in the same transaction...
        raise RuntimeError("the host change fails")
    assert not Event.objects.exists()  # ...and goes with it
    assert not Delivery.objects.exists()
    run_worker()
    assert bodies(receiver) == []


def test_a_bulk_delete_of_n_objects_sends_n_notifications(
    account: Team, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    made = {Ticket.objects.create(team=account, reference=f"bulk-{number}").pk for number in range(5)}
    Ticket.objects.filter(team=account).delete()
    run_worker()
    assert {(body["type"], body["data"]["ticketId"]) for body in bodies(receiver)} == {
        ("ticket.deleted", ticket_id) for ticket_id in made
    }


def test_a_related_object_is_built_into_the_body(
    ticket: Ticket, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    note = Note.objects.create(ticket=ticket, text="Replaced the toner")
    note.text = "Replaced the toner and the drum"
    note.save()
    note.save()  # the same text: not news
    run_worker()
    expected = {"type": "note.changed", "data": {"ticketId": ticket.pk, "reference": "ticket-1", "noteId": note.pk}}
    assert bodies(receiver) == [expected, expected]


def test_paused_and_other_accounts_webhooks_receive_nothing(
    ticket: Ticket, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    other = Team.objects.create(name="Other Co")
    Webhook.objects.create(account=other, url=receiver.url_for("/other"))
    paused = Webhook.objects.create(account=ticket.team, url=receiver.url_for("/paused"), is_active=False)
    close(ticket)
    run_worker()
    assert len(bodies(receiver)) == 1
    assert bodies(receiver, "/other") == []
    assert bodies(receiver, "/paused") == []
    # The paused one holds its delivery until it is resumed; the other account has none.
    assert Delivery.objects.get(webhook=paused).status == Delivery.Status.PENDING
    assert Delivery.objects.count() == 2


def test_every_active_webhook_of_the_account_gets_its_own_delivery(
    ticket: Ticket, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    receiver.expect_request("/second", method="POST").respond_with_data("ok")
    second = Webhook.objects.create(account=ticket.team, url=receiver.url_for("/second"))
    close(ticket)
    run_worker()
    [(_, first_headers, raw)] = received(receiver)
    [(_, second_headers, _)] = received(receiver, "/second")
    assert first_headers["webhook-id"] == second_headers["webhook-id"]  # one event, two deliveries
    standardwebhooks.Webhook(second.secret).verify(raw, second_headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(webhook.secret).verify(raw, second_headers)


def test_many_events_in_one_transaction_queue_one_job(
    account: Team, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    with transaction.atomic():
        for number in range(20):
            close(Ticket.objects.create(team=account, reference=f"c{number}"))
    from integrations.queue import wakes_sent, webhooks_queue

    assert wakes_sent(10)
    assert webhooks_queue().count == 1
    run_worker()
    assert len(bodies(receiver)) == 20
    assert Delivery.objects.filter(status=Delivery.Status.SUCCEEDED).count() == 20


@pytest.mark.parametrize(
    ("status", "headers"),
    [(500, {}), (302, {"Location": "/elsewhere"}), (404, {})],
)
def test_a_failing_receiver_leaves_a_failed_attempt_and_a_retry(
    ticket: Ticket,
    account: Team,
    httpserver: Any,
    run_worker: Callable[[], None],
    status: int,
    headers: dict[str, str],
) -> None:
    httpserver.expect_request("/failing", method="POST").respond_with_data("nope", status=status, headers=headers)
    httpserver.expect_request("/elsewhere").respond_with_data("should never be asked")
    Webhook.objects.create(account=account, url=httpserver.url_for("/failing"))
    before = time.time()
    close(ticket)
    run_worker()

    assert len(bodies(httpserver, "/failing")) == 1
    assert bodies(httpserver, "/elsewhere") == []  # redirects are not followed
    [attempt] = DeliveryAttempt.objects.all()
    assert attempt.succeeded is False
    assert attempt.status_code == status
    assert attempt.response_body == "nope"
    assert str(status) in attempt.error or "Redirect" in attempt.error
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING  # retried on the schedule
    assert delivery.attempt_count == 1
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at.timestamp() == pytest.approx(before + 5, abs=3)
    assert delivery.claimed_until is None


def test_a_delivery_fails_when_the_schedule_is_exhausted(
    ticket: Ticket, account: Team, httpserver: Any, run_worker: Callable[[], None], settings: Any
) -> None:
    settings.INTEGRATIONS_RETRY_SCHEDULE = "0,0"
    httpserver.expect_request("/down", method="POST").respond_with_data("down", status=503)
    Webhook.objects.create(account=account, url=httpserver.url_for("/down"))
    close(ticket)
    run_worker()  # the first attempt; the retries are due at once and queued as fresh jobs
    for _ in range(5):
        run_worker()
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempt_count == 3
    assert list(DeliveryAttempt.objects.values_list("status_code", flat=True)) == [503, 503, 503]
    assert len(bodies(httpserver, "/down")) == 3
    # Every attempt carries the same webhook-id, so the receiver can tell they are one event.
    assert len({headers["webhook-id"] for _, headers, _ in received(httpserver, "/down")}) == 1


def test_a_hanging_receiver_is_cut_off_by_the_timeout(
    ticket: Ticket, account: Team, httpserver: Any, run_worker: Callable[[], None], settings: Any
) -> None:
    settings.INTEGRATIONS_ATTEMPT_TIMEOUT = 0.5
    release = threading.Event()

    def hang(request: Request) -> Response:
        release.wait(10)
        return Response("too late")

    httpserver.expect_request("/hang", method="POST").respond_with_handler(hang)
    Webhook.objects.create(account=account, url=httpserver.url_for("/hang"))
    close(ticket)
    started = time.monotonic()
    try:
        run_worker()
        elapsed = time.monotonic() - started
    finally:
        release.set()
    [attempt] = DeliveryAttempt.objects.all()
    assert attempt.succeeded is False
    assert attempt.status_code is None
    assert "Timed out" in attempt.error
    assert elapsed < 5
    assert Delivery.objects.get().status == Delivery.Status.PENDING


def test_a_refused_connection_is_a_failed_attempt_with_the_reason(
    ticket: Ticket, account: Team, run_worker: Callable[[], None]
) -> None:
    from integrations.testing import free_port

    Webhook.objects.create(account=account, url=f"http://127.0.0.1:{free_port()}/nobody-listens")
    close(ticket)
    run_worker()
    [attempt] = DeliveryAttempt.objects.all()
    assert attempt.status_code is None
    assert "Connection failed" in attempt.error
    assert "refused" in attempt.error.lower()


def test_a_large_response_is_stored_truncated(
    ticket: Ticket, account: Team, httpserver: Any, run_worker: Callable[[], None]
) -> None:
    httpserver.expect_request("/big", method="POST").respond_with_data("x" * 200_000)
    Webhook.objects.create(account=account, url=httpserver.url_for("/big"))
    close(ticket)
    run_worker()
    [attempt] = DeliveryAttempt.objects.all()
    assert attempt.succeeded
    assert attempt.response_body == "x" * 4096


def test_saving_succeeds_and_nothing_is_lost_while_redis_is_down(
    ticket: Ticket, webhook: Webhook, receiver: Any, settings: Any, run_worker: Callable[[], None], redis_url: str
) -> None:
    from integrations.queue import forget_queue, wakes_sent
    from integrations.testing import free_port

    settings.RQ_QUEUES = {"webhooks": {"URL": f"redis://127.0.0.1:{free_port()}/0"}}
    forget_queue()
    close(ticket)  # the wake-up fails; the save must not
    assert wakes_sent(10)
    assert Delivery.objects.get().status == Delivery.Status.PENDING

    settings.RQ_QUEUES = {"webhooks": {"URL": redis_url}}
    forget_queue()
    from integrations.queue import webhook_wake

    webhook_wake(webhook_id=webhook.pk)  # what the sweeper does for due deliveries
    run_worker()
    assert len(bodies(receiver)) == 1
    assert Delivery.objects.get().status == Delivery.Status.SUCCEEDED


def test_a_redis_that_never_answers_delays_no_save_and_its_wake_up_is_queued_once_it_answers(
    ticket: Ticket, webhook: Webhook, receiver: Any, settings: Any, run_worker: Callable[[], None], redis_url: str
) -> None:
    """The wake-up goes from a thread of its own: the request that closes a ticket never waits for Redis."""
    from integrations.queue import forget_queue, wakes_sent, webhooks_queue
    from tests.helpers import silent_server

    with silent_server() as redis:
        settings.RQ_QUEUES = {"webhooks": {"URL": f"redis://127.0.0.1:{redis.port}/0"}}
        forget_queue()
        started = time.monotonic()
        close(ticket)
        waited = time.monotonic() - started
        assert not wakes_sent(0.5)  # the waking thread is stuck on the silent Redis; the save was not
        redis.hang_up()  # the silent Redis goes away: the waking thread's call fails and it goes on
        assert wakes_sent(10)
    assert waited < 5  # without its own thread the save would wait for Redis as long as it stays silent
    settings.RQ_QUEUES = {"webhooks": {"URL": redis_url}}
    forget_queue()
    close(Ticket.objects.create(team=ticket.team, reference="after"))
    assert wakes_sent(10) and webhooks_queue().count == 1
    run_worker()
    assert sorted(body["data"]["reference"] for body in bodies(receiver)) == ["after", ticket.reference]


def test_a_job_sends_a_bounded_batch_and_queues_a_fresh_job_for_the_rest(
    account: Team, webhook: Webhook, receiver: Any, run_worker: Callable[[], None], settings: Any
) -> None:
    from integrations.jobs import deliver_webhook

    settings.INTEGRATIONS_JOB_MAX_DELIVERIES = 3
    settings.INTEGRATIONS_BATCH_SIZE = 2
    with transaction.atomic():
        for number in range(7):
            close(Ticket.objects.create(team=account, reference=f"c{number}"))
    from integrations.queue import wakes_sent, webhooks_queue

    assert wakes_sent(10)
    webhooks_queue().empty()
    assert deliver_webhook(webhook.pk) == 3
    assert webhooks_queue().count == 1  # the rest goes to a fresh job, behind other webhooks' jobs
    run_worker()
    assert len(bodies(receiver)) == 7


def test_a_job_out_of_time_gives_its_unsent_claims_back(
    account: Team, webhook: Webhook, receiver: Any, settings: Any
) -> None:
    from integrations.jobs import deliver_webhook

    close(Ticket.objects.create(team=account, reference="late"))
    settings.INTEGRATIONS_JOB_MAX_SECONDS = 0
    assert deliver_webhook(webhook.pk) == 0
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.claimed_until, delivery.claim_token) == (Delivery.Status.PENDING, None, None)
    settings.INTEGRATIONS_JOB_MAX_SECONDS = 10
    assert deliver_webhook(webhook.pk) == 1


def test_a_deactivated_webhook_is_not_sent_to(
    ticket: Ticket, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    close(ticket)
    Webhook.objects.filter(pk=webhook.pk).update(is_active=False)
    run_worker()
    assert bodies(receiver) == []
    assert Delivery.objects.get().status == Delivery.Status.PENDING


def test_a_webhook_deleted_while_its_request_is_in_flight_is_no_error(
    ticket: Ticket, account: Team, httpserver: Any, run_worker: Callable[[], None]
) -> None:
    def delete_the_webhook(request: Request) -> Response:
        try:
            Webhook.objects.all().delete()
        finally:
            connection.close()  # this thread's own connection
        return Response("ok")

    httpserver.expect_request("/vanishing", method="POST").respond_with_handler(delete_the_webhook)
    Webhook.objects.create(account=account, url=httpserver.url_for("/vanishing"))
    close(ticket)
    run_worker()
    assert len(bodies(httpserver, "/vanishing")) == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.webhook) == (Delivery.Status.CANCELLED, None)
    [attempt] = DeliveryAttempt.objects.all()  # what did happen stays on record
    assert attempt.status_code == 200
    from integrations.queue import webhooks_queue

    assert webhooks_queue().failed_job_registry.count == 0


def test_loading_fixtures_sends_nothing(account: Team, webhook: Webhook, receiver: Any) -> None:
    from django.core import serializers
    from django.utils import timezone

    fixture = serializers.serialize(
        "json",
        [
            Ticket(pk=999, team=account, reference="from-a-fixture", closed_at=timezone.now()),
        ],
    )
    for loaded in serializers.deserialize("json", fixture):
        loaded.save()  # what loaddata does: a raw save
    assert Ticket.objects.filter(reference="from-a-fixture").exists()
    assert not Event.objects.exists()


@pytest.mark.parametrize(("status", "expected_delay"), [(429, 35), (503, 35), (500, 20)])
def test_retry_after_is_honoured_on_429_and_503_within_the_schedule(
    ticket: Ticket,
    account: Team,
    httpserver: Any,
    run_worker: Callable[[], None],
    settings: Any,
    status: int,
    expected_delay: int,
) -> None:
    settings.INTEGRATIONS_RETRY_SCHEDULE = "20,300"
    httpserver.expect_request("/busy", method="POST").respond_with_data(
        "slow down", status=status, headers={"Retry-After": "35"}
    )
    Webhook.objects.create(account=account, url=httpserver.url_for("/busy"))
    before = time.time()
    close(ticket)
    run_worker()
    delivery = Delivery.objects.get()
    assert delivery.next_attempt_at is not None
    assert delivery.next_attempt_at.timestamp() == pytest.approx(before + expected_delay, abs=3)


def test_successes_written_together_keep_their_order_with_failures(
    account: Team, httpserver: Any, settings: Any
) -> None:
    from integrations.jobs import deliver_webhook

    settings.INTEGRATIONS_LEDGER_SIZE = 20  # successes wait to be written in one go...
    settings.INTEGRATIONS_ENDPOINT_CONCURRENCY = 1  # (one at a time, so the answers go in the deliveries' order)
    answers = iter([200, 200, 500])

    def answer(request: Request) -> Response:
        return Response("x", status=next(answers))

    httpserver.expect_request("/mixed", method="POST").respond_with_handler(answer)
    webhook = Webhook.objects.create(account=account, url=httpserver.url_for("/mixed"))
    with transaction.atomic():
        for number in range(3):
            close(Ticket.objects.create(team=account, reference=f"m{number}"))
    assert deliver_webhook(webhook.pk) == 3
    statuses = list(Delivery.objects.order_by("id").values_list("status", "attempt_count"))
    assert statuses == [("succeeded", 1), ("succeeded", 1), ("pending", 1)]
    assert DeliveryAttempt.objects.count() == 3
    assert Delivery.objects.filter(claim_token__isnull=False).count() == 0
    webhook.refresh_from_db()
    # ...but the failure came after them, so the endpoint is failing now, not healthy.
    assert webhook.consecutive_failures == 1
    assert webhook.failing_since is not None
