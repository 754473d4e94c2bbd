"""The delivery log, resend and send test on the Integrations page, with their rate limits; login throttling."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import standardwebhooks
from django.test import Client
from django.urls import reverse

from integrations.models import Delivery, DeliveryAttempt, Webhook
from tests.helpers import rate_window_with_room
from tests.testhost.models import Team, Ticket
from tests.testhost.objects import close

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_client(client: Client, admin_user: Any) -> Client:
    client.force_login(admin_user)
    return client


def test_the_log_lists_deliveries_and_filters_by_status(
    admin_client: Client, account: Team, webhook: Webhook, run_worker: Callable[[], None]
) -> None:
    close(Ticket.objects.create(team=account, reference="a"))
    run_worker()
    close(Ticket.objects.create(team=account, reference="b"))  # not sent yet
    page = admin_client.get(reverse("integrations:deliveries")).content.decode()
    ids = [delivery.event.msg_id for delivery in Delivery.objects.select_related("event")]
    assert all(webhook_id in page for webhook_id in ids)
    assert "Succeeded" in page and "Pending" in page
    pending = admin_client.get(reverse("integrations:deliveries"), {"status": "pending"}).content.decode()
    assert "Succeeded</span>" not in pending and "Pending</span>" in pending
    # An unknown filter shows everything rather than failing.
    assert admin_client.get(reverse("integrations:deliveries"), {"status": "bogus"}).status_code == 200


def test_a_delivery_shows_its_body_and_attempts(
    admin_client: Client, account: Team, httpserver: Any, run_worker: Callable[[], None]
) -> None:
    httpserver.expect_request("/down", method="POST").respond_with_data("<b>busy</b>", status=503)
    Webhook.objects.create(account=account, url=httpserver.url_for("/down"))
    close(Ticket.objects.create(team=account, reference="zoë"))
    run_worker()
    delivery = Delivery.objects.get()
    page = admin_client.get(reverse("integrations:delivery", args=[delivery.pk])).content.decode()
    assert "HTTP 503" in page
    assert "&lt;b&gt;busy&lt;/b&gt;" in page  # the receiver's answer, escaped
    assert "zoë" in page
    assert delivery.event.msg_id in page


def test_resend_sends_again_with_the_same_webhook_id(
    admin_client: Client, account: Team, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    close(Ticket.objects.create(team=account, reference="again"))
    run_worker()
    delivery = Delivery.objects.get()
    response = admin_client.post(reverse("integrations:delivery_resend", args=[delivery.pk]), follow=True)
    assert "Resending the notification" in response.content.decode()
    run_worker()
    first, second = (dict(request.headers) for request, _ in receiver.log)
    assert first["Webhook-Id"] == second["Webhook-Id"]
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SUCCEEDED
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 2


def send_test_url(webhook: Webhook) -> str:
    return reverse("integrations:endpoint_send_test", args=[webhook.pk])


def test_send_test_delivers_a_signed_test_notification_and_shows_how_it_went(
    admin_client: Client, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    response = admin_client.post(send_test_url(webhook))
    delivery = Delivery.objects.get()
    assert response["Location"].endswith(f"?test={delivery.pk}#test")
    page = admin_client.get(response["Location"]).content.decode()
    assert "Pending</span>" in page and 'hx-trigger="every 2s"' in page  # no worker yet: it polls
    run_worker()
    [(request, _)] = receiver.log
    body = standardwebhooks.Webhook(webhook.secret).verify(request.get_data(), dict(request.headers))
    assert body["type"] == "test"
    page = admin_client.get(response["Location"]).content.decode()
    assert "Succeeded</span>\n  Your endpoint answered HTTP 200" in page
    assert 'hx-trigger="every 2s"' not in page


def test_a_failed_test_says_why_at_once_and_when_it_retries(
    admin_client: Client, account: Team, run_worker: Callable[[], None]
) -> None:
    from integrations.testing import free_port

    dead = Webhook.objects.create(account=account, url=f"http://127.0.0.1:{free_port()}/nobody")
    location = admin_client.post(send_test_url(dead))["Location"]
    run_worker()
    page = admin_client.get(location).content.decode()
    assert "Retrying</span>\n  Connection refused. Next attempt at" in page  # a sentence, not a raw error
    assert "Next attempt at" in page
    assert 'hx-trigger="every 2s"' in page  # still on its way: the box keeps itself up to date
    log = admin_client.get(reverse("integrations:deliveries")).content.decode()
    assert "Retrying</span> <small>Connection refused.</small>" in log  # the log says it too, with the error
    assert 'hx-trigger="every 3s"' in log  # and refreshes the pending rows by itself


def test_send_test_and_resend_allow_five_a_minute_per_user(
    admin_client: Client, account: Team, webhook: Webhook
) -> None:
    send_test = send_test_url(webhook)
    rate_window_with_room(admin_client.session["_auth_user_id"], room=10)  # both bursts in one window
    answers = [admin_client.post(send_test, follow=True).content.decode() for _ in range(6)]
    assert all('id="test-result"' in page for page in answers[:5])
    assert "Too many tests and examples: 5 per minute are allowed." in answers[5]
    assert Delivery.objects.count() == 5

    close(Ticket.objects.create(team=account, reference="r"))
    delivery = Delivery.objects.filter(event__type="ticket.closed").get()
    resend = reverse("integrations:delivery_resend", args=[delivery.pk])
    answers = [admin_client.post(resend, follow=True).content.decode() for _ in range(6)]
    assert "Too many resends" in answers[5]
    assert "Too many resends" not in answers[4]


def test_without_redis_the_rate_limited_actions_are_refused_clearly(
    admin_client: Client, webhook: Webhook, settings: Any
) -> None:
    from integrations.testing import free_port

    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }
    response = admin_client.post(send_test_url(webhook), follow=True)
    page = response.content.decode()
    # The real reason, not "Too many tests": the user has sent none.
    assert "Nothing was sent: our rate limiter is unavailable right now, so tests and examples are paused." in page
    assert "Too many" not in page
    assert not Delivery.objects.exists()


def test_resend_needs_an_active_webhook(admin_client: Client, account: Team, webhook: Webhook) -> None:
    close(Ticket.objects.create(team=account, reference="r"))
    delivery = Delivery.objects.get()
    Delivery.objects.update(status=Delivery.Status.FAILED)
    Webhook.objects.filter(pk=webhook.pk).update(is_active=False)
    response = admin_client.post(reverse("integrations:delivery_resend", args=[delivery.pk]), follow=True)
    assert "Enable the endpoint first: it is paused or disabled." in response.content.decode()
    response = admin_client.post(send_test_url(webhook), follow=True)
    assert "Enable the endpoint first: it is paused or disabled." in response.content.decode()
    assert Delivery.objects.count() == 1


@pytest.mark.parametrize(
    ("rate", "words"), [("5/m", "5 per minute"), ("10/30s", "10 per 30 seconds"), ("100/h", "100 per hour")]
)
def test_the_limit_is_told_in_words(rate: str, words: str) -> None:
    from integrations.ratelimits import rate_in_words

    assert rate_in_words(rate) == words


def test_examples_count_with_tests_against_the_limit(admin_client: Client, webhook: Webhook) -> None:
    example = reverse("integrations:endpoint_send_example", args=[webhook.pk])
    rate_window_with_room(admin_client.session["_auth_user_id"])
    for _ in range(3):
        admin_client.post(send_test_url(webhook))
    answers = [
        admin_client.post(example, {"event_type": "ticket.deleted"}, follow=True).content.decode() for _ in range(3)
    ]
    assert 'id="test-result"' in answers[1]
    assert "Too many tests and examples" in answers[2]
    assert Delivery.objects.count() == 5
    refused = admin_client.post(example, {"event_type": "test"}, follow=True).content.decode()
    assert "Choose one of the event types" in refused  # the catalog's events only
    assert Delivery.objects.count() == 5


def log_walk(client: Client, query: dict[str, Any]) -> tuple[list[int], list[int]]:
    """Every delivery id the log shows, following "Older" to the end and then "Newer" back to the start."""
    import re

    def page(params: dict[str, Any]) -> tuple[list[int], dict[str, str]]:
        answer = client.get(reverse("integrations:deliveries"), {**query, **params})
        assert answer.status_code == 200
        html = answer.content.decode()
        ids = [int(found) for found in re.findall(r'href="[^"]*/webhook/deliveries/(\d+)/"', html)]
        links = dict(re.findall(r'href="\?[^"]*?(older|newer)=(\d+)"', html))
        return ids, links

    older_walk: list[int] = []
    ids, links = page({})
    older_walk += ids
    while "older" in links:
        ids, links = page({"older": links["older"]})
        older_walk += ids
    newer_walk = ids[:]
    while "newer" in links:
        ids, links = page({"newer": links["newer"]})
        newer_walk = ids + newer_walk
    return older_walk, newer_walk


def test_the_log_pages_by_newer_and_older_through_every_delivery_once(
    admin_client: Client, account: Team, settings: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from integrations.models import Event

    here = Webhook.objects.create(account=account, url="http://127.0.0.1:9/a")
    there = Webhook.objects.create(account=account, url="http://127.0.0.1:9/b")
    elsewhere = Webhook.objects.create(account=Team.objects.create(name="Other"), url="http://127.0.0.1:9/c")
    now = timezone.now()
    for number in range(130):
        webhook = (here, there, elsewhere)[number % 3]
        event = Event.objects.create(account_id=webhook.account_id, type="test", body="{}")
        delivery = Delivery.objects.create(
            event=event, webhook=webhook, status="failed" if number % 4 == 0 else "succeeded"
        )
        # Several in the same instant: the id orders them, and no page boundary loses or repeats one.
        Delivery.objects.filter(pk=delivery.pk).update(created_at=now - timedelta(seconds=number // 5))
    expected = list(
        Delivery.objects.filter(account=account).order_by("-created_at", "-id").values_list("id", flat=True)
    )
    assert log_walk(admin_client, {}) == (expected, expected)
    for query in ({"endpoint": here.pk}, {"status": "failed"}, {"endpoint": there.pk, "status": "failed"}):
        rows = Delivery.objects.filter(account=account).order_by("-created_at", "-id")
        if "endpoint" in query:
            rows = rows.filter(webhook_id=query["endpoint"])
        if "status" in query:
            rows = rows.filter(status=query["status"])
        wanted = list(rows.values_list("id", flat=True))
        assert log_walk(admin_client, query) == (wanted, wanted), query

    # A cursor from another account, pruned, or not a number at all: the newest page, never an error.
    theirs = Delivery.objects.filter(webhook=elsewhere).first()
    assert theirs is not None
    for cursor in (str(theirs.pk), "999999999", "-1", "٣", "1e3", ""):
        for side in ("older", "newer"):
            answer = admin_client.get(reverse("integrations:deliveries"), {side: cursor})
            assert answer.status_code == 200
            assert f'/webhook/deliveries/{expected[0]}/"' in answer.content.decode()
            assert f'/webhook/deliveries/{theirs.pk}/"' not in answer.content.decode()


def shown_status(html: str) -> list[str]:
    """The status words a page shows, in order."""
    import re

    return re.findall(r'<span class="status status-[a-z]*">([A-Za-z]+)</span>', html)


def test_one_vocabulary_on_every_page_and_a_retrying_filter(
    admin_client: Client, account: Team, run_worker: Callable[[], None]
) -> None:
    """A delivery that failed and will be tried again is "Retrying" in the log, the endpoint's table, its own
    page and the inline result alike; the log's "retrying" filter finds it, "failed" (for good) does not."""
    from integrations.testing import free_port

    dead = Webhook.objects.create(account=account, url=f"http://127.0.0.1:{free_port()}/nobody")
    location = admin_client.post(send_test_url(dead))["Location"]
    run_worker()
    delivery = Delivery.objects.get()
    log = reverse("integrations:deliveries")
    pages = {
        "log": admin_client.get(log).content.decode(),
        "endpoint": admin_client.get(location).content.decode(),
        "delivery": admin_client.get(reverse("integrations:delivery", args=[delivery.pk])).content.decode(),
    }
    for name, page in pages.items():
        assert "Retrying" in shown_status(page), name
        assert not {"Pending", "Failed", "Sending", "Delivered"} & set(shown_status(page)), name
    assert delivery.event.msg_id in admin_client.get(log, {"status": "retrying"}).content.decode()
    assert delivery.event.msg_id not in admin_client.get(log, {"status": "failed"}).content.decode()
    assert delivery.event.msg_id not in admin_client.get(log, {"status": "pending"}).content.decode()
    assert ">retrying</a>" in pages["log"]


def test_held_deliveries_say_why_and_show_no_time_already_past(
    admin_client: Client, account: Team, webhook: Webhook
) -> None:
    """Held by the breaker: "Waiting", until when; by a pause: "Paused". Never a next attempt in the past."""
    from datetime import timedelta

    from django.utils import timezone

    close(Ticket.objects.create(team=account, reference="held"))
    delivery = Delivery.objects.get()
    past = timezone.now() - timedelta(minutes=5)
    cooling_until = timezone.now() + timedelta(minutes=3)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=past, attempt_count=2)
    Webhook.objects.filter(pk=webhook.pk).update(breaker_open_until=cooling_until, consecutive_failures=5)
    log = admin_client.get(reverse("integrations:deliveries")).content.decode()
    row = log[log.index(delivery.event.msg_id) :]
    assert "Waiting</span> <small>The endpoint is cooling down after failures.</small>" in row
    assert timezone.localtime(cooling_until).strftime("%-d %b, %H:%M:%S") in row
    assert timezone.localtime(past).strftime("%-d %b, %H:%M:%S") not in row
    detail = admin_client.get(reverse("integrations:delivery", args=[delivery.pk])).content.decode()
    assert "Waiting</span>" in detail and "The endpoint is cooling down after failures." in detail

    Webhook.objects.filter(pk=webhook.pk).update(is_active=False, breaker_open_until=None)
    log = admin_client.get(reverse("integrations:deliveries")).content.decode()
    row = log[log.index(delivery.event.msg_id) :]
    assert "Paused</span>" in row and "when resumed" in row
    assert timezone.localtime(past).strftime("%-d %b, %H:%M:%S") not in row


def test_a_refused_test_says_why_beside_the_button_and_keeps_the_result_shown(
    admin_client: Client, webhook: Webhook, settings: Any
) -> None:
    settings.INTEGRATIONS_ACTION_RATE = "1/m"
    rate_window_with_room(admin_client.session["_auth_user_id"])
    shown = admin_client.post(send_test_url(webhook))["Location"]
    first = Delivery.objects.get()
    # The page shows that test's result; the next click is over the limit.
    answer = admin_client.post(send_test_url(webhook), {"shown_test": str(first.pk)})
    assert answer["Location"] == shown  # the same result stays in view
    page = admin_client.get(answer["Location"]).content.decode()
    section = page[page.index('id="test"') :]
    assert 'id="test-refused"' in section and "Too many tests and examples: 1 per minute" in section
    assert section.index('id="test-result"') < section.index('id="test-refused"')
    assert 'class="integrations-messages"' not in page  # not (only) in a flash at the top
    assert "Too many tests" not in admin_client.get(shown).content.decode()  # said once


def test_endpoints_sharing_a_url_are_told_apart_and_a_deleted_ones_url_is_named(
    admin_client: Client, account: Team, receiver: Any, run_worker: Callable[[], None]
) -> None:
    url = receiver.url_for("/hook")
    crm = Webhook.objects.create(account=account, url=url, description="CRM")
    Webhook.objects.create(account=account, url=url, description="Billing")
    close(Ticket.objects.create(team=account, reference="both"))
    run_worker()
    log = admin_client.get(reverse("integrations:deliveries")).content.decode()
    assert f">{url} (CRM)</option>" in log and f">{url} (Billing)</option>" in log  # the filter
    assert '<small class="muted">CRM</small>' in log and '<small class="muted">Billing</small>' in log  # the column
    catalog = admin_client.get(reverse("integrations:events")).content.decode()
    assert f">{url} (CRM)</option>" in catalog and f">{url} (Billing)</option>" in catalog  # "Send example to"

    crm.delete()
    log = admin_client.get(reverse("integrations:deliveries")).content.decode()
    assert f'a deleted endpoint, at <code class="integrations-url">{url}</code>' in log
    gone = Delivery.objects.get(webhook=None)
    detail = admin_client.get(reverse("integrations:delivery", args=[gone.pk])).content.decode()
    assert f'its attempts went to <code class="integrations-url">{url}</code>' in detail
