"""Several endpoints per account: subscriptions, examples, recovery, alerts, custom headers and rates, end to end."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
import standardwebhooks
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from werkzeug import Request, Response

from integrations.adapter import event_type as declared
from integrations.adapter import subscribable_names
from integrations.jobs import deliver_webhook
from integrations.models import Delivery, DeliveryAttempt, Event, Webhook
from integrations.outbox import deliveries_to_recover, webhook_recover, webhook_send_example
from integrations.signals import signals_sent, webhook_failing, webhook_recovered
from tests.helpers import endpoint_form, rate_window_with_room
from tests.testhost.integrations import EXAMPLE_TICKET_ID
from tests.testhost.models import Note, Team, Ticket
from tests.testhost.objects import close

pytestmark = pytest.mark.django_db(transaction=True)


def types_at(server: Any, path: str) -> list[str]:
    return [json.loads(request.get_data())["type"] for request, _ in server.log if request.path == path]


def close_note_and_delete(account: Team, reference: str) -> None:
    ticket = close(Ticket.objects.create(team=account, reference=reference))
    Note.objects.create(ticket=ticket, text="Right")
    ticket.delete()


def test_each_endpoint_receives_only_the_events_it_subscribes_to(
    account: Team, httpserver: Any, run_worker: Callable[[], None]
) -> None:
    for path in ("/crm", "/ops", "/all"):
        httpserver.expect_request(path, method="POST").respond_with_data("ok")
    crm = Webhook.objects.create(account=account, url=httpserver.url_for("/crm"), event_types=["ticket.closed"])
    Webhook.objects.create(
        account=account, url=httpserver.url_for("/ops"), event_types=["ticket.deleted", "note.changed"]
    )
    Webhook.objects.create(account=account, url=httpserver.url_for("/all"))
    close_note_and_delete(account, "p1")
    run_worker()
    assert types_at(httpserver, "/crm") == ["ticket.closed"]
    assert sorted(types_at(httpserver, "/ops")) == ["note.changed", "ticket.deleted"]
    assert sorted(types_at(httpserver, "/all")) == ["note.changed", "ticket.closed", "ticket.deleted"]
    # An event no endpoint wants is not recorded for it at all.
    assert not Delivery.objects.filter(webhook=crm).exclude(event__type="ticket.closed").exists()


def test_an_event_nobody_subscribes_to_is_not_recorded(account: Team) -> None:
    Webhook.objects.create(account=account, url="http://127.0.0.1:9/x", event_types=["ticket.deleted"])
    close(Ticket.objects.create(team=account, reference="p"))
    assert not Event.objects.exists()


def test_an_example_is_signed_logged_and_has_the_documented_shape_with_ticket_id_0(
    webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    from jsonschema import Draft202012Validator

    for event_type in subscribable_names():
        webhook_send_example(webhook=webhook, event_type=event_type)
    run_worker()
    sent = [(request.get_data(), dict(request.headers)) for request, _ in receiver.log]
    assert len(sent) == len(subscribable_names())
    for raw, headers in sent:
        body = standardwebhooks.Webhook(webhook.secret).verify(raw, headers)
        Draft202012Validator(declared(body["type"]).body_schema).validate(body)
        assert body["data"]["ticketId"] == EXAMPLE_TICKET_ID
    assert Event.objects.filter(is_example=True).count() == len(subscribable_names())


def test_examples_go_only_to_the_chosen_endpoint_even_if_it_did_not_subscribe(
    account: Team, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    other = Webhook.objects.create(account=account, url=receiver.url_for("/other"))
    Webhook.objects.filter(pk=webhook.pk).update(event_types=["ticket.closed"])
    webhook.refresh_from_db()
    webhook_send_example(webhook=webhook, event_type="ticket.deleted")
    run_worker()
    assert types_at(receiver, "/hook") == ["ticket.deleted"]
    assert not Delivery.objects.filter(webhook=other).exists()


def failed_delivery(webhook: Webhook, *, created: Any, last_attempt: Any) -> Delivery:
    event = Event.objects.create(account_id=webhook.account_id, type="ticket.closed", body='{"type":"ticket.closed"}')
    delivery = Delivery.objects.create(
        event=event, webhook=webhook, status=Delivery.Status.FAILED, attempt_count=8, last_attempt_at=last_attempt
    )
    Delivery.objects.filter(pk=delivery.pk).update(created_at=created)
    return delivery


def test_recovery_resends_exactly_what_failed_in_the_period_once(
    webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    now = timezone.now()
    since = now - timedelta(hours=6)
    before = failed_delivery(webhook, created=now - timedelta(days=2), last_attempt=now - timedelta(days=1))
    lasted = failed_delivery(webhook, created=now - timedelta(days=1), last_attempt=now - timedelta(hours=2))
    during = failed_delivery(webhook, created=now - timedelta(hours=3), last_attempt=now - timedelta(hours=1))
    held = failed_delivery(webhook, created=now - timedelta(hours=1), last_attempt=None)  # failed while disabled
    ok = failed_delivery(webhook, created=now - timedelta(hours=1), last_attempt=now)
    Delivery.objects.filter(pk=ok.pk).update(status=Delivery.Status.SUCCEEDED)

    assert set(deliveries_to_recover(webhook=webhook, since=since)) == {lasted, during, held}  # the dry run
    assert webhook_recover(webhook=webhook, since=since) == 3
    assert webhook_recover(webhook=webhook, since=since) == 0  # already on their way: not twice
    run_worker()
    sent_ids = sorted(dict(request.headers)["Webhook-Id"] for request, _ in receiver.log)
    assert sent_ids == sorted(d.event.msg_id for d in (lasted, during, held))  # each keeps its webhook-id
    for delivery in (lasted, during, held):
        delivery.refresh_from_db()
        assert (delivery.status, delivery.resend_count) == (Delivery.Status.SUCCEEDED, 1)
    before.refresh_from_db()
    assert (before.status, before.resend_count) == (Delivery.Status.FAILED, 0)


def test_recovery_from_the_page_counts_first_then_resends_and_is_rate_limited(
    client: Client, admin_user: Any, webhook: Webhook
) -> None:
    now = timezone.now()
    for hours in (1, 2):
        failed_delivery(webhook, created=now - timedelta(hours=hours), last_attempt=now - timedelta(hours=hours))
    client.force_login(admin_user)
    recover = reverse("integrations:endpoint_recover", args=[webhook.pk])
    since = (now - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    page = client.get(recover, {"since": since}).content.decode()
    assert "2 notifications</strong> failed since" in page and ">Resend 2 notifications</button>" in page
    assert Delivery.objects.filter(status=Delivery.Status.FAILED).count() == 2  # counting changed nothing
    assert client.get(recover, {"since": "not a date"}).status_code == 400
    future = (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert "Choose a time in the past." in client.get(recover, {"since": future}).content.decode()
    rate_window_with_room(str(admin_user.pk))  # the six recoveries below in one window of the limit
    response = client.post(recover, {"since": since}, follow=True)
    said = response.content.decode()
    start = datetime.fromisoformat(since)
    # Dates are written one way on every page: "8 Dec 2026", never "08 Dec".
    assert f"Resending 2 notifications that failed since {start.day} {start:%b %Y, %H:%M} UTC" in said
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).count() == 2
    pages = [client.post(recover, {"since": since}, follow=True).content.decode() for _ in range(5)]
    assert "Too many recoveries" in pages[-1]


def test_the_admins_are_told_once_when_an_endpoint_fails_and_once_when_it_recovers(
    account: Team, admin_user: Any, httpserver: Any, settings: Any
) -> None:
    settings.INTEGRATIONS_ALERT_AFTER_FAILURES = 2
    settings.INTEGRATIONS_RETRY_SCHEDULE = "0,0,0,0,0,0"
    admin_user.email = "ada@example.com"
    admin_user.save()
    httpserver.expect_request("/flaky", method="POST").respond_with_data("down", status=500)
    webhook = Webhook.objects.create(account=account, url=httpserver.url_for("/flaky"), description="CRM")
    told: list[str] = []
    webhook_failing.connect(lambda sender, **kw: told.append("failing"), weak=False, dispatch_uid="t-failing")
    webhook_recovered.connect(lambda sender, **kw: told.append("recovered"), weak=False, dispatch_uid="t-recovered")
    try:
        for number in range(4):
            close(Ticket.objects.create(team=account, reference=f"c{number}"))
        deliver_webhook(webhook.pk)  # four failures: past the threshold twice over
        webhook.refresh_from_db()
        assert webhook.failing_alert_at is not None
        assert signals_sent(10)
        assert told == ["failing"]
        [failing_mail] = mail.outbox
        assert "failing" in failing_mail.subject and "(CRM)" in failing_mail.body
        assert failing_mail.to == ["ada@example.com"]

        httpserver.clear()
        httpserver.expect_request("/flaky", method="POST").respond_with_data("ok")
        Webhook.objects.filter(pk=webhook.pk).update(breaker_open_until=None)
        Delivery.objects.update(next_attempt_at=timezone.now())
        deliver_webhook(webhook.pk)
        assert signals_sent(10)
        assert told == ["failing", "recovered"]
        assert "recovered" in mail.outbox[1].subject
        webhook.refresh_from_db()
        assert webhook.failing_alert_at is None
    finally:
        webhook_failing.disconnect(dispatch_uid="t-failing")
        webhook_recovered.disconnect(dispatch_uid="t-recovered")


def test_custom_headers_are_sent_but_never_recorded_or_logged(
    webhook: Webhook, receiver: Any, run_worker: Callable[[], None], caplog: Any
) -> None:
    Webhook.objects.filter(pk=webhook.pk).update(
        custom_headers=[{"name": "Authorization", "value": "Bearer s3cr3t-token"}]
    )
    webhook.refresh_from_db()
    caplog.set_level("DEBUG")
    webhook_send_example(webhook=webhook, event_type="ticket.closed")
    run_worker()
    [(request, _)] = receiver.log
    assert request.headers["Authorization"] == "Bearer s3cr3t-token"
    attempt = DeliveryAttempt.objects.get()
    assert attempt.url == webhook.url
    assert attempt.request_headers["Authorization"] == "••••••••"
    assert attempt.request_headers["webhook-id"] == request.headers["Webhook-Id"]
    assert attempt.request_headers["webhook-signature"].endswith("…")
    assert request.headers["Webhook-Signature"] not in json.dumps(attempt.request_headers)
    assert "s3cr3t" not in json.dumps(attempt.request_headers) and "s3cr3t" not in caplog.text


def test_the_attempt_records_where_it_went_and_what_the_receiver_answered(
    account: Team, httpserver: Any, run_worker: Callable[[], None]
) -> None:
    def answer(request: Request) -> Response:
        return Response("nope", status=422, headers={"X-Request-Id": "abc\u00e9", "Retry-After": "5"})

    httpserver.expect_request("/h", method="POST").respond_with_handler(answer)
    webhook = Webhook.objects.create(account=account, url=httpserver.url_for("/h"))
    webhook_send_example(webhook=webhook, event_type="ticket.deleted")
    run_worker()
    Webhook.objects.filter(pk=webhook.pk).update(url=httpserver.url_for("/moved"))
    attempt = DeliveryAttempt.objects.get()
    assert attempt.url == httpserver.url_for("/h")  # where it went then, not where the endpoint points now
    assert attempt.response_headers["X-Request-Id"].startswith("abc")
    assert attempt.error == "The receiver answered HTTP 422."


def test_a_maximum_rate_spaces_the_attempts_out(account: Team, httpserver: Any, run_worker: Callable[[], None]) -> None:
    arrivals: list[float] = []

    def answer(request: Request) -> Response:
        arrivals.append(time.monotonic())
        return Response("ok")

    httpserver.expect_request("/paced", method="POST").respond_with_handler(answer)
    webhook = Webhook.objects.create(account=account, url=httpserver.url_for("/paced"), max_rate=10)
    for number in range(5):
        close(Ticket.objects.create(team=account, reference=f"p{number}"))
    run_worker()
    assert len(arrivals) == 5
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    # A lower bound only (sleeping never ends early); nothing here asserts how fast anything is.
    assert min(gaps) >= 0.09, gaps
    assert Delivery.objects.filter(webhook=webhook, status=Delivery.Status.SUCCEEDED).count() == 5


def test_two_endpoints_saved_through_the_page_each_get_their_events(
    client: Client, admin_user: Any, account: Team, httpserver: Any, run_worker: Callable[[], None]
) -> None:
    for path in ("/a", "/b"):
        httpserver.expect_request(path, method="POST").respond_with_data("ok")
    client.force_login(admin_user)
    tab = reverse("integrations:webhook")
    client.post(tab, endpoint_form(httpserver.url_for("/a"), event_types=["ticket.closed"]))
    client.post(tab, endpoint_form(httpserver.url_for("/b"), event_types=["ticket.deleted"]))
    ticket = close(Ticket.objects.create(team=account, reference="both"))
    ticket.delete()
    run_worker()
    assert types_at(httpserver, "/a") == ["ticket.closed"]
    assert types_at(httpserver, "/b") == ["ticket.deleted"]
    page = client.get(tab).content.decode()
    assert page.count("100% of 1 succeeded") == 2  # each one's health, on the tab
