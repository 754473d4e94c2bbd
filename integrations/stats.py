"""Endpoint health at a glance: success rate, median duration, and attempts by hour and by day.

Counted in the database (a GROUP BY per chart), so a busy endpoint costs a few rows, not its attempts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from .models import DeliveryAttempt, Webhook

HOURS = 24
DAYS = 14
# The chart's drawing box (SVG user units); the page scales it to the card's width.
CHART_WIDTH = 480
CHART_HEIGHT = 80


@dataclass(frozen=True)
class Summary:
    """The last 24 hours of one endpoint."""

    attempts: int
    succeeded: int
    median_ms: int | None
    last_attempt: DeliveryAttempt | None

    @property
    def success_rate(self) -> float | None:
        return None if not self.attempts else 100 * self.succeeded / self.attempts


@dataclass(frozen=True)
class Bar:
    start: datetime
    succeeded: int
    failed: int
    x: float
    width: float
    # Heights and tops of the stacked rectangles, in the chart's units.
    succeeded_height: float
    failed_height: float
    succeeded_y: float
    failed_y: float


@dataclass(frozen=True)
class Chart:
    title: str
    unit: str  # "hour" or "day"
    bars: list[Bar]
    peak: int
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT

    @property
    def succeeded(self) -> int:
        return sum(bar.succeeded for bar in self.bars)

    @property
    def failed(self) -> int:
        return sum(bar.failed for bar in self.bars)


def _attempts(webhook: Webhook, since: datetime) -> QuerySet[DeliveryAttempt]:
    return DeliveryAttempt.objects.filter(delivery__webhook=webhook, attempted_at__gte=since)


def webhook_summary(*, webhook: Webhook, now: datetime | None = None) -> Summary:
    since = (now or timezone.now()) - timedelta(hours=HOURS)
    attempts = _attempts(webhook, since)
    counts = attempts.aggregate(total=Count("id"), ok=Count("id", filter=Q(succeeded=True)))
    total = counts["total"]
    median = None
    if total:
        # The middle one by duration: the same query on every database, whatever its percentile functions.
        median = attempts.order_by("duration_ms").values_list("duration_ms", flat=True)[total // 2]
    return Summary(
        attempts=total,
        succeeded=counts["ok"],
        median_ms=median,
        last_attempt=DeliveryAttempt.objects.filter(delivery__webhook=webhook).order_by("-attempted_at", "-id").first(),
    )


def _chart(webhook: Webhook, *, unit: str, count: int, now: datetime) -> Chart:
    step = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    truncate = TruncHour if unit == "hour" else TruncDay
    current = now.replace(minute=0, second=0, microsecond=0)
    if unit == "day":
        current = current.replace(hour=0)
    starts = [current - step * offset for offset in reversed(range(count))]
    rows = (
        _attempts(webhook, starts[0])
        .annotate(bucket=truncate("attempted_at", tzinfo=UTC))
        .order_by()  # not the model's ordering, which would join the GROUP BY
        .values("bucket")
        # Not named like the field: an annotation called "succeeded" would be what the next filter reads.
        .annotate(ok=Count("id", filter=Q(succeeded=True)), bad=Count("id", filter=Q(succeeded=False)))
    )
    by_start = {row["bucket"]: (row["ok"], row["bad"]) for row in rows}
    peak = max((sum(by_start.get(start, (0, 0))) for start in starts), default=0)
    slot = CHART_WIDTH / count
    bars = []
    for index, start in enumerate(starts):
        succeeded, failed = by_start.get(start, (0, 0))
        succeeded_height = CHART_HEIGHT * succeeded / peak if peak else 0.0
        failed_height = CHART_HEIGHT * failed / peak if peak else 0.0
        bars.append(
            Bar(
                start=start,
                succeeded=succeeded,
                failed=failed,
                x=round(index * slot + 1, 2),
                width=round(slot - 2, 2),
                succeeded_height=round(succeeded_height, 2),
                failed_height=round(failed_height, 2),
                succeeded_y=round(CHART_HEIGHT - succeeded_height, 2),
                failed_y=round(CHART_HEIGHT - succeeded_height - failed_height, 2),
            )
        )
    title = f"Last {count} {unit}s"
    return Chart(title=title, unit=unit, bars=bars, peak=peak)


def webhook_charts(*, webhook: Webhook, now: datetime | None = None) -> list[Chart]:
    """Attempts that succeeded and failed, by hour over 24 hours and by day over 14 days (UTC)."""
    now = (now or timezone.now()).astimezone(UTC)
    return [_chart(webhook, unit="hour", count=HOURS, now=now), _chart(webhook, unit="day", count=DAYS, now=now)]
