"""Endpoint health at a glance: success rate, median duration, and attempts by hour and by day.

Read from the endpoint's counts by hour (`tallies`), never from its attempts: a chart reads at most
24 or 14 * 24 small rows, however busy the endpoint and however long its history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import F, Sum
from django.db.models.functions import TruncDay
from django.utils import timezone

from .models import EndpointDurations, EndpointHour, Webhook
from .tallies import hour_of

HOURS = 24
DAYS = 14
# The chart's drawing box (SVG user units); the page scales it to the card's width.
CHART_WIDTH = 480
CHART_HEIGHT = 80


@dataclass(frozen=True)
class LastAttempt:
    attempted_at: datetime
    succeeded: bool


@dataclass(frozen=True)
class Summary:
    """The last 24 hours of one endpoint: the current hour and the 23 before it (UTC), as the hour chart."""

    attempts: int
    succeeded: int
    # The middle attempt by duration, to two significant figures (`tallies.duration_bucket`).
    median_ms: int | None
    last_attempt: LastAttempt | None

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

    @property
    def axis(self) -> list[datetime]:
        """The starts of the first, middle and last bars: the time axis under the chart."""
        if not self.bars:
            return []
        return [self.bars[0].start, self.bars[len(self.bars) // 2].start, self.bars[-1].start]


def _hour_starts(now: datetime, *, unit: str, count: int) -> list[datetime]:
    step = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    current = hour_of(now)
    if unit == "day":
        current = current.replace(hour=0)
    return [current - step * offset for offset in reversed(range(count))]


def webhook_summary(*, webhook: Webhook, now: datetime | None = None) -> Summary:
    since = _hour_starts(now or timezone.now(), unit="hour", count=HOURS)[0]
    counts = EndpointHour.objects.filter(webhook=webhook, hour__gte=since).aggregate(
        total=Sum("attempts"), ok=Sum("succeeded")
    )
    total = counts["total"] or 0
    latest = EndpointHour.objects.filter(webhook=webhook).order_by("-hour").first()
    return Summary(
        attempts=total,
        succeeded=counts["ok"] or 0,
        median_ms=_median(webhook, since, total),
        last_attempt=None if latest is None else LastAttempt(latest.last_attempt_at, latest.last_succeeded),
    )


def _median(webhook: Webhook, since: datetime, total: int) -> int | None:
    """The duration of the middle attempt (the one at index total // 2 in duration order), from the counts."""
    if not total:
        return None
    by_duration = (
        EndpointDurations.objects.filter(webhook=webhook, hour__gte=since)
        .values("duration_ms")
        .annotate(count=Sum("attempts"))
        .order_by("duration_ms")
    )
    seen = 0
    for row in by_duration:
        seen += row["count"]
        if seen > total // 2:
            return int(row["duration_ms"])
    return None


def _chart(webhook: Webhook, *, unit: str, count: int, now: datetime) -> Chart:
    starts = _hour_starts(now, unit=unit, count=count)
    bucket = TruncDay("hour", tzinfo=UTC) if unit == "day" else F("hour")
    rows = (
        EndpointHour.objects.filter(webhook=webhook, hour__gte=starts[0])
        .annotate(bucket=bucket)
        .values("bucket")
        .annotate(total=Sum("attempts"), ok=Sum("succeeded"))
    )
    by_start = {row["bucket"]: (row["ok"], row["total"] - row["ok"]) for row in rows}
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
