"""The retry decision: pure arithmetic over the published schedule, no Django or network."""

from __future__ import annotations

import random
from collections.abc import Sequence


def retry_delay(
    *,
    attempts_made: int,
    schedule: Sequence[float],
    jitter: float,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait before the next attempt, or None when the schedule is exhausted.

    `attempts_made` counts the attempt that just failed: after the first (immediate) attempt
    the first delay of the schedule applies.
    """
    if attempts_made < 1:
        raise ValueError("attempts_made counts the attempt that just failed, so it starts at 1")
    if attempts_made > len(schedule):
        return None
    delay = float(schedule[attempts_made - 1])
    spread = (rng or random).uniform(-jitter, jitter)
    return max(0.0, delay * (1 + spread))
