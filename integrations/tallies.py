"""Per-endpoint counts by hour, kept as attempts are recorded: what health figures read instead of the attempts.

An hour row holds its attempts, how many succeeded and the latest one; a durations row counts the
hour's attempts that took about so long (two significant figures), for the median. Both are added
to in the transaction that writes the attempts, so they are exactly the counts over the attempts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection

from .models import EndpointDurations, EndpointHour

# Rows per statement: well within SQLite's limit on parameters.
UPSERT_ROWS = 100


@dataclass(frozen=True)
class Tallied:
    """What is counted of one attempt."""

    webhook_id: int
    attempted_at: datetime
    succeeded: bool
    duration_ms: int


def hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def duration_bucket(duration_ms: int) -> int:
    """The duration to two significant figures, rounded down: exact under 100 ms, within 10 % above."""
    duration_ms = max(duration_ms, 0)
    unit: int = 10 ** max(0, len(str(duration_ms)) - 2)
    return duration_ms // unit * unit


# (webhook id, hour) → [attempts, succeeded, last attempt's time, whether it succeeded]
Hours = dict[tuple[int, datetime], list[Any]]
# (webhook id, hour, duration bucket) → attempts
Durations = Counter[tuple[int, datetime, int]]


def attempts_tally(attempts: Iterable[Tallied]) -> None:
    """Add these attempts to their endpoints' hours; call it in the transaction that writes them."""
    hours: Hours = {}
    durations: Durations = Counter()
    for attempt in attempts:
        hour_count(hours, attempt.webhook_id, attempt.attempted_at, attempt.succeeded, count=1)
        durations[attempt.webhook_id, hour_of(attempt.attempted_at), duration_bucket(attempt.duration_ms)] += 1
    tallies_add(hours, durations)


def hour_count(hours: Hours, webhook_id: int, attempted_at: datetime, succeeded: bool, *, count: int) -> None:
    """Count `count` attempts, the latest at `attempted_at`, that all succeeded or all failed."""
    row = hours.setdefault((webhook_id, hour_of(attempted_at)), [0, 0, attempted_at, succeeded])
    row[0] += count
    row[1] += count if succeeded else 0
    if attempted_at >= row[2]:
        row[2], row[3] = attempted_at, succeeded


def tallies_add(hours: Hours, durations: Durations) -> None:
    if not hours:
        return
    adapt = connection.ops.adapt_datetimefield_value
    # Sorted, so that two writers adding to the same rows take their locks in the same order.
    _upsert(
        EndpointHour._meta.db_table,
        ("webhook_id", "hour", "attempts", "succeeded", "last_attempt_at", "last_succeeded"),
        ("webhook_id", "hour"),
        [
            (webhook_id, adapt(hour), count, ok, adapt(last_at), last_ok)
            for (webhook_id, hour), (count, ok, last_at, last_ok) in sorted(hours.items())
        ],
        adds=("attempts", "succeeded"),
        latest=("last_attempt_at", "last_succeeded"),
    )
    _upsert(
        EndpointDurations._meta.db_table,
        ("webhook_id", "hour", "duration_ms", "attempts"),
        ("webhook_id", "hour", "duration_ms"),
        [(webhook_id, adapt(hour), bucket, count) for (webhook_id, hour, bucket), count in sorted(durations.items())],
        adds=("attempts",),
    )


def _upsert(
    table: str,
    columns: tuple[str, ...],
    key: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    *,
    adds: tuple[str, ...],
    latest: tuple[str, ...] = (),
) -> None:
    """INSERT … ON CONFLICT DO UPDATE, adding to the counts (PostgreSQL and SQLite spell it alike).

    `latest` columns are taken from the new row when its first one (a time) is not older.
    """
    quote = connection.ops.quote_name
    stored = quote(table)
    settings = [f"{quote(name)} = {stored}.{quote(name)} + excluded.{quote(name)}" for name in adds]
    if latest:
        newer = f"excluded.{quote(latest[0])} >= {stored}.{quote(latest[0])}"
        settings += [
            f"{quote(name)} = CASE WHEN {newer} THEN excluded.{quote(name)} ELSE {stored}.{quote(name)} END"
            for name in latest
        ]
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"

    def sql(count: int) -> str:
        # Names from the models and placeholders only: every value goes as a parameter.
        return (
            f"INSERT INTO {stored} ({', '.join(map(quote, columns))}) VALUES {', '.join([placeholders] * count)} "  # noqa: S608
            f"ON CONFLICT ({', '.join(map(quote, key))}) DO UPDATE SET {', '.join(settings)}"
        )

    with connection.cursor() as cursor:
        for start in range(0, len(rows), UPSERT_ROWS):
            chunk = rows[start : start + UPSERT_ROWS]
            cursor.execute(sql(len(chunk)), [value for row in chunk for value in row])
