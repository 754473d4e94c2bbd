"""Signing secrets: rotation with an overlap, and never a secret in logs, the attempt log or error reports."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import standardwebhooks
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.views.debug import ExceptionReporter

from integrations.models import DeliveryAttempt, Webhook, new_signing_secret
from integrations.sending.signing import request_headers
from integrations.webhooks import webhook_retired_secrets, webhook_rotate_secret, webhook_signing_secrets
from tests.testhost.models import Team, Ticket
from tests.testhost.objects import close

pytestmark = pytest.mark.django_db(transaction=True)


def received(server: Any) -> list[tuple[bytes, dict[str, str]]]:
    return [(request.get_data(), dict(request.headers)) for request, _ in server.log]


def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends(
    account: Team, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    old = webhook.secret
    rotation = webhook_rotate_secret(webhook=webhook)
    assert rotation.dropped == [] and rotation.replaced is not None and rotation.replaced.secret == old
    new = webhook.secret
    assert new != old and new.startswith("whsec_")
    [retired] = webhook_retired_secrets(webhook=webhook)
    assert retired.secret == old
    assert (retired.expires_at - timezone.now()).total_seconds() == pytest.approx(86400, abs=60)

    close(Ticket.objects.create(team=account, reference="during"))
    run_worker()
    [(body, headers)] = received(receiver)
    assert len(headers["Webhook-Signature"].split(" ")) == 2
    standardwebhooks.Webhook(old).verify(body, headers)  # receivers not yet switched keep working
    standardwebhooks.Webhook(new).verify(body, headers)

    later = timezone.now() + timedelta(hours=25)
    assert webhook_signing_secrets(webhook=webhook, now=later) == [new]


def test_an_expired_previous_secret_no_longer_signs(
    account: Team, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    old = webhook.secret
    webhook_rotate_secret(webhook=webhook)
    expired = (timezone.now() - timedelta(seconds=1)).isoformat()
    Webhook.objects.filter(pk=webhook.pk).update(retired_secrets=[{"secret": old, "expires_at": expired}])
    close(Ticket.objects.create(team=account, reference="after"))
    run_worker()
    [(body, headers)] = received(receiver)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(old).verify(body, headers)


def test_a_second_rotation_keeps_the_first_secret_until_its_own_expiry(webhook: Webhook, settings: Any) -> None:
    first = webhook.secret
    webhook_rotate_secret(webhook=webhook)
    second = webhook.secret
    # Two hours later it is rotated again (a leak suspected): the first still has 22 hours to go.
    Webhook.objects.filter(pk=webhook.pk).update(
        retired_secrets=[{"secret": first, "expires_at": (timezone.now() + timedelta(hours=22)).isoformat()}]
    )
    webhook.refresh_from_db()
    assert webhook_rotate_secret(webhook=webhook).dropped == []
    third = webhook.secret
    now = timezone.now()
    assert webhook_signing_secrets(webhook=webhook, now=now) == [third, first, second]
    assert webhook_signing_secrets(webhook=webhook, now=now + timedelta(hours=23)) == [third, second]
    assert webhook_signing_secrets(webhook=webhook, now=now + timedelta(hours=25)) == [third]


def test_at_most_a_few_rotated_out_secrets_sign_at_once(webhook: Webhook, settings: Any) -> None:
    settings.INTEGRATIONS_RETIRED_SECRETS_MAX = 2
    secrets = [webhook.secret]
    dropped = []
    for _ in range(3):
        dropped += webhook_rotate_secret(webhook=webhook).dropped
        secrets.append(webhook.secret)
    # The third rotation dropped the secret that would have expired first, the very first one.
    assert [entry.secret for entry in dropped] == [secrets[0]]
    assert webhook_signing_secrets(webhook=webhook) == [secrets[3], secrets[1], secrets[2]]
    webhook.refresh_from_db()
    assert webhook_signing_secrets(webhook=webhook) == [secrets[3], secrets[1], secrets[2]]


def rotate_url(webhook: Webhook) -> str:
    return reverse("integrations:endpoint_rotate_secret", args=[webhook.pk])


def test_rotating_from_the_page_asks_first_and_lets_the_admin_choose_the_overlap(
    client: Client, admin_user: Any, account: Team
) -> None:
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9000/")
    old = webhook.secret
    client.force_login(admin_user)
    confirmation = client.get(rotate_url(webhook)).content.decode()
    assert "keep signing beside it" in confirmation and "Stop signing with it now" in confirmation
    assert 'aria-current="page">Webhook' in confirmation  # the tab it belongs to is highlighted
    webhook.refresh_from_db()
    assert webhook.secret == old  # asking changes nothing
    response = client.post(rotate_url(webhook), {"overlap_hours": "1"}, follow=True)
    webhook.refresh_from_db()
    page = response.content.decode()
    assert webhook.secret != old and [entry.secret for entry in webhook_retired_secrets(webhook=webhook)] == [old]
    expires = webhook_retired_secrets(webhook=webhook)[0].expires_at
    assert timedelta(minutes=59) < expires - timezone.now() <= timedelta(hours=1)
    assert "New signing secret created" in page
    assert webhook.secret in page
    assert old not in page  # the previous secret is not shown again
    assert 'id="previous-secret"' in page


def test_rotating_with_no_overlap_stops_the_old_secret_now(client: Client, admin_user: Any, account: Team) -> None:
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9000/")
    client.force_login(admin_user)
    old_prefix = webhook.secret[:12]
    response = client.post(rotate_url(webhook), {"overlap_hours": "0"}, follow=True)
    assert f"The secret it replaced ({old_prefix}…) stopped signing now." in response.content.decode()
    webhook.refresh_from_db()
    assert webhook_signing_secrets(webhook=webhook) == [webhook.secret]


def test_the_rotation_message_names_the_secret_just_replaced_and_when_it_stops(
    client: Client, admin_user: Any, account: Team
) -> None:
    """Rotated with 24 hours, then again with 1: the one just replaced stops in an hour, not in 24."""
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9000/")
    client.force_login(admin_user)
    first = webhook.secret
    client.post(rotate_url(webhook), {"overlap_hours": "24"})
    webhook.refresh_from_db()
    second = webhook.secret
    page = client.post(rotate_url(webhook), {"overlap_hours": "1"}, follow=True).content.decode()
    webhook.refresh_from_db()
    ends = {entry.secret: entry.expires_at for entry in webhook_retired_secrets(webhook=webhook)}
    assert ends[second] - timezone.now() <= timedelta(hours=1) < ends[first] - timezone.now()
    said = page[page.index("New signing secret created") :]
    assert (
        f"The secret it replaced ({second[:12]}…) also signs every request until {ends[second]:%-d %b %Y, %H:%M} UTC"
        in said
    )
    assert f"Older secrets still signing: {first[:12]}… until {ends[first]:%-d %b %Y, %H:%M} UTC" in said
    # The endpoint's page lists both by their first characters, and offers to stop each.
    assert page.count("Stop it now…") == 2 and f"<code>{first[:12]}…</code>" in page
    assert first not in page and second not in page  # never more than their first characters


def test_a_previous_secret_can_be_stopped_early_after_asking(client: Client, admin_user: Any, account: Team) -> None:
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9000/")
    client.force_login(admin_user)
    leaked = webhook.secret
    client.post(rotate_url(webhook), {"overlap_hours": "24"})
    webhook.refresh_from_db()
    end = reverse("integrations:endpoint_end_secret", args=[webhook.pk, leaked[:12]])
    asked = client.get(end).content.decode()
    assert f"Stop the previous secret <code>{leaked[:12]}…</code> signing now?" in asked
    assert "cannot be undone" in asked
    webhook.refresh_from_db()
    assert leaked in webhook_signing_secrets(webhook=webhook)  # asking changes nothing
    page = client.post(end, follow=True).content.decode()
    assert f"The previous secret {leaked[:12]}… stopped signing now." in page
    webhook.refresh_from_db()
    assert webhook_signing_secrets(webhook=webhook) == [webhook.secret]
    # Again, or another endpoint's, or any prefix: nothing to end, nothing changes.
    assert "no longer signs" in client.post(end, follow=True).content.decode()
    other = Webhook.objects.create(account=Team.objects.create(name="Other"), url="http://127.0.0.1:9000/")
    assert client.get(reverse("integrations:endpoint_end_secret", args=[other.pk, "whsec_x"])).status_code == 404


@pytest.mark.parametrize("overlap", ["", "169", "-1", "2", "nan", "inf", "24\x00"])
def test_an_overlap_not_offered_is_refused_and_changes_nothing(
    client: Client, admin_user: Any, account: Team, overlap: str
) -> None:
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9000/")
    old = webhook.secret
    client.force_login(admin_user)
    assert client.post(rotate_url(webhook), {"overlap_hours": overlap}).status_code == 400
    webhook.refresh_from_db()
    assert webhook.secret == old


@pytest.fixture
def every_log_record() -> Any:
    """Every record any logger emits, at every level, requests', urllib3's and rq's included."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    loggers = [logging.getLogger(name) for name in ("integrations", "rq", "urllib3", "django")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    yield records
    root.removeHandler(handler)
    root.setLevel(previous)
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def test_secrets_never_reach_logs_or_the_attempt_log(
    every_log_record: list[logging.LogRecord],
    account: Team,
    httpserver: Any,
    run_worker: Callable[[], None],
    settings: Any,
) -> None:
    settings.INTEGRATIONS_ATTEMPT_TIMEOUT = 0.5
    httpserver.expect_request("/ok", method="POST").respond_with_data("ok")
    httpserver.expect_request("/fail", method="POST").respond_with_data("boom", status=500)
    httpserver.expect_request("/redirect", method="POST").respond_with_data("", status=302, headers={"Location": "/x"})
    urls = [httpserver.url_for(path) for path in ("/ok", "/fail", "/redirect")]
    from integrations.testing import free_port

    urls.append(f"http://127.0.0.1:{free_port()}/refused")
    urls.append("http://unknown-host.example/")  # does not resolve: refused at send time
    webhooks = [Webhook.objects.create(account=account, url=url) for url in urls]
    webhook_rotate_secret(webhook=webhooks[0])
    close(Ticket.objects.create(team=account, reference="logged"))
    run_worker()

    assert DeliveryAttempt.objects.count() == 5
    secrets = [w.secret for w in Webhook.objects.all()] + [
        entry["secret"] for entry in Webhook.objects.get(pk=webhooks[0].pk).retired_secrets
    ]
    # The bare key (without the whsec_ prefix) must not leak either.
    needles = secrets + [secret.removeprefix("whsec_") for secret in secrets]
    assert len(every_log_record) > 10  # the capture works: these deliveries did log
    logged = "\n".join(record.getMessage() + repr(record.args) + repr(record.__dict__) for record in every_log_record)
    for needle in needles:
        assert needle not in logged
    stored = "\n".join(f"{a.error}\n{a.response_body}" for a in DeliveryAttempt.objects.all())
    for needle in needles:
        assert needle not in stored


def test_error_reports_hide_the_secrets_of_the_failing_frames(monkeypatch: pytest.MonkeyPatch) -> None:
    # A valid secret never makes signing fail, so the failure is forced (the one thing mocked here).
    def fail(*args: Any) -> bytes:
        raise RuntimeError("signing failed")

    monkeypatch.setattr("integrations.sending.signing.hmac.digest", fail)
    secret = new_signing_secret()
    try:
        request_headers(msg_id="msg_1", timestamp=1, body="{}", secrets=[secret])
    except RuntimeError:
        report = ExceptionReporter(RequestFactory().get("/"), *sys.exc_info())
        text, html = report.get_traceback_text(), report.get_traceback_html()
    else:
        pytest.fail("signing should have failed")
    key = secret.removeprefix("whsec_")
    assert key not in text
    assert key not in html
    assert "secrets" in text  # the variable is listed, its value hidden
    assert "********************" in text


def test_the_page_lists_when_each_previous_secret_stops(client: Client, admin_user: Any, account: Team) -> None:
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9000/")
    client.force_login(admin_user)
    client.post(rotate_url(webhook), {"overlap_hours": "24"})
    page = client.post(rotate_url(webhook), {"overlap_hours": "24"}, follow=True).content.decode()
    webhook.refresh_from_db()
    assert "2 previous secrets also sign every request, each until its own time:" in page
    for entry in webhook_retired_secrets(webhook=webhook):
        assert entry.secret not in page
