"""The retry decision: pure arithmetic over the published schedule, no Django or network."""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime


def retry_delay(
    *,
    attempts_made: int,
    schedule: Sequence[float],
    jitter: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait before the next attempt, or None when the schedule is exhausted.

    `attempts_made` counts the attempt that just failed: after the first (immediate) attempt
    the first delay of the schedule applies. A receiver's Retry-After is honoured, but kept
    between the scheduled delay and twice it, so that it can neither hurry nor stall us.
    """
    if attempts_made < 1:
        raise ValueError("attempts_made counts the attempt that just failed, so it starts at 1")
    if attempts_made > len(schedule):
        return None
    delay = max(0.0, float(schedule[attempts_made - 1]) * (1 + (rng or random).uniform(-jitter, jitter)))
    if retry_after is not None:
        delay = min(max(retry_after, delay), 2 * delay)
    return delay


# delay-seconds is ASCII digits only: str.isdigit() also takes "²" or "߁", which float() refuses.
_DELAY_SECONDS = re.compile(r"[0-9]+")
# More digits than this is "wait for ever"; the caller bounds it anyway.
_DELAY_DIGITS_MAX = 12


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds from a Retry-After header (delay-seconds or an HTTP date); None when absent or unreadable.

    Strict and total: any other text, however odd, is None, never an exception.
    """
    if not value:
        return None
    value = value.strip(" \t")
    if _DELAY_SECONDS.fullmatch(value):
        return float(value) if len(value) <= _DELAY_DIGITS_MAX else float(10**_DELAY_DIGITS_MAX)
    if not value.isascii() or not value.isprintable():
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())
