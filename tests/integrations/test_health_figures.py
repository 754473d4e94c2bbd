"""The health figures (24-hour summary, hour and day charts) are read from counts kept as attempts are
recorded; they must be exactly the counts over the attempts themselves, whatever the attempts were.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.models import Delivery, DeliveryAttempt, EndpointDurations, EndpointHour, Event, Webhook
from integrations.sending.store import attempts_write
from integrations.stats import HOURS, webhook_charts, webhook_summary
from integrations.tallies import duration_bucket
from tests.testhost.models import Team

pytestmark = pytest.mark.django_db

# Each example empties what the one before wrote (the test's own transaction holds them all).
examples = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

NOW = datetime(2026, 12, 7, 13, 37, 12, 345678, tzinfo=UTC)

# (seconds before now, succeeded, duration in ms): over the 14 days the day chart shows, and a bit beyond.
attempt = st.tuples(
    st.integers(min_value=0, max_value=15 * 24 * 3600),
    st.booleans(),
    st.one_of(st.integers(min_value=0, max_value=300), st.integers(min_value=0, max_value=60_000)),
)


def record(webhook: Webhook, attempts: list[tuple[int, bool, int]], batch: int) -> None:
    """The attempts, written as the sender writes them (in batches, through the one write of outcomes)."""
    event = Event.objects.create(account_id=webhook.account_id, type="test", body="{}")
    entries = []
    for seconds, succeeded, duration_ms in attempts:
        delivery = Delivery.objects.create(event=event, webhook=webhook, claim_token=uuid.uuid4())
        entries.append(
            (
                delivery,
                DeliveryAttempt(
                    delivery=delivery,
                    attempted_at=NOW - timedelta(seconds=seconds),
                    succeeded=succeeded,
                    duration_ms=duration_ms,
                    status_code=200 if succeeded else 500,
                ),
            )
        )
    for start in range(0, len(entries), batch):
        attempts_write([(attempt, delivery.webhook_id) for delivery, attempt in entries[start : start + batch]])


def counted(webhook: Webhook, start: datetime, end: datetime) -> tuple[int, int]:
    """(succeeded, failed) over the attempts themselves."""
    attempts = DeliveryAttempt.objects.filter(delivery__webhook=webhook, attempted_at__gte=start, attempted_at__lt=end)
    return attempts.filter(succeeded=True).count(), attempts.filter(succeeded=False).count()


@examples
@given(attempts=st.lists(attempt, max_size=60), batch=st.integers(min_value=1, max_value=60))
def test_the_figures_are_the_counts_over_the_attempts(
    attempts: list[tuple[int, bool, int]], batch: int, account: Team
) -> None:
    Event.objects.all().delete()
    EndpointHour.objects.all().delete()
    EndpointDurations.objects.all().delete()
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9/health")
    other = Webhook.objects.create(account=account, url="http://127.0.0.1:9/other")
    record(webhook, attempts, batch)
    record(other, [(0, False, 5)], 1)  # another endpoint's attempt counts for it alone

    hour_chart, day_chart = webhook_charts(webhook=webhook, now=NOW)
    for chart, step in ((hour_chart, timedelta(hours=1)), (day_chart, timedelta(days=1))):
        for bar in chart.bars:
            assert (bar.succeeded, bar.failed) == counted(webhook, bar.start, bar.start + step)

    summary = webhook_summary(webhook=webhook, now=NOW)
    since = hour_chart.bars[0].start
    assert len(hour_chart.bars) == HOURS and since == NOW.replace(minute=0, second=0, microsecond=0) - timedelta(
        hours=HOURS - 1
    )
    succeeded, failed = counted(webhook, since, NOW + timedelta(seconds=1))
    assert (summary.attempts, summary.succeeded) == (succeeded + failed, succeeded)
    durations = sorted(
        DeliveryAttempt.objects.filter(delivery__webhook=webhook, attempted_at__gte=since).values_list(
            "duration_ms", flat=True
        )
    )
    # The middle attempt by duration, as the page always showed it, to two significant figures.
    assert summary.median_ms == (duration_bucket(durations[len(durations) // 2]) if durations else None)

    latest = DeliveryAttempt.objects.filter(delivery__webhook=webhook).order_by("-attempted_at", "-id").first()
    if latest is None:
        assert summary.last_attempt is None
    else:
        assert summary.last_attempt is not None
        assert summary.last_attempt.attempted_at == latest.attempted_at
        if not DeliveryAttempt.objects.filter(delivery__webhook=webhook, attempted_at=latest.attempted_at).exclude(
            succeeded=latest.succeeded
        ):
            assert summary.last_attempt.succeeded == latest.succeeded


@pytest.mark.parametrize(
    ("duration", "bucket"),
    [(0, 0), (7, 7), (99, 99), (100, 100), (109, 100), (1234, 1200), (59_999, 59_000), (-3, 0)],
)
def test_durations_are_kept_to_two_significant_figures(duration: int, bucket: int) -> None:
    assert duration_bucket(duration) == bucket


@pytest.mark.django_db(transaction=True)  # committed: a constraint checked at commit would refuse it there
def test_an_attempt_of_a_deleted_endpoint_is_still_recorded(account: Team) -> None:
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9/gone")
    event = Event.objects.create(account=account, type="test", body="{}")
    delivery = Delivery.objects.create(event=event, webhook=webhook, claim_token=uuid.uuid4())
    webhook_id = webhook.pk
    Webhook.objects.filter(pk=webhook_id).delete()  # as the attempt was in flight
    delivery.webhook_id = webhook_id
    late = DeliveryAttempt(delivery=delivery, attempted_at=NOW, succeeded=True, duration_ms=3, status_code=200)
    attempts_write([(late, webhook_id)])
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 1


def test_deleting_an_endpoint_deletes_its_counts(account: Team, settings: Any) -> None:
    webhook = Webhook.objects.create(account=account, url="http://127.0.0.1:9/counted")
    record(webhook, [(0, True, 12), (60, False, 800)], 2)
    assert EndpointHour.objects.filter(webhook=webhook).exists()
    webhook.delete()
    assert not EndpointHour.objects.exists() and not EndpointDurations.objects.exists()
