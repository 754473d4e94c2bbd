"""The loop side of sending: each endpoint being sent to, and the decisions about it, one function each.

- `window`: how many attempts may be in flight to it at once;
- `lane`: which of the process's two budgets of attempts in flight an attempt to it takes;
- `pace_delay`: how long its next attempt waits for the endpoint's maximum rate.
No I/O here: the engine asks, and acts.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

from ..conf import conf
from ..health import EndpointHealth
from ..models import Webhook
from .claims import Claimed


class Lane(StrEnum):
    # Endpoints answering in time share one budget of attempts in flight...
    HEALTHY = "healthy"
    # ...those failing, probing after a cool-down, or slow to answer (an attempt unanswered after
    # SLOW_ATTEMPT_SECONDS) share another: however many hang, the healthy ones keep theirs.
    TROUBLED = "troubled"


@dataclass(eq=False)
class Endpoint:
    """One endpoint this process holds the sending lease of: its deliveries claimed, its attempts in flight."""

    webhook: Webhook
    health: EndpointHealth
    # A recent success and no failure since: its window opens at once. A new or troubled one probes first.
    warm: bool
    secrets: list[str] = field(default_factory=list)
    # Claimed and not yet sent, each with when it was claimed (monotonic).
    claimed: deque[tuple[Claimed, float]] = field(default_factory=deque)
    in_flight: int = 0
    # An attempt went unanswered past SLOW_ATTEMPT_SECONDS, and none has answered in time since.
    slow: bool = False
    # A claim came back short: nothing more is due until a wake-up says otherwise.
    drained: bool = False
    woken: bool = False
    # Its lease is being given back: a wake-up now takes it again afterwards.
    letting_go: bool = False
    # When its last attempt started (monotonic), for pacing.
    last_start: float = float("-inf")
    # Set whenever something it waits on happens: an answer, a wake-up, a claim, the engine stopping.
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def pk(self) -> int:
        return int(self.webhook.pk)

    @property
    def probing(self) -> bool:
        """After a cool-down, one attempt decides whether the endpoint is back."""
        return self.health.breaker_open_until is not None


def window(endpoint: Endpoint) -> int:
    """Attempts in flight to this endpoint at once: the full window only while it answers well.

    One at a time when it is paced (spaced by its maximum rate), new or not recently successful
    (a hanging endpoint never holds more than one), failing, probing, or slow.
    """
    if endpoint.webhook.max_rate or not endpoint.warm or endpoint.health.troubled:
        return 1
    return conf.ENDPOINT_CONCURRENCY


def lane(endpoint: Endpoint) -> Lane:
    return Lane.TROUBLED if endpoint.health.troubled or endpoint.slow else Lane.HEALTHY


def pace_delay(endpoint: Endpoint, now: float) -> float:
    """Seconds until its next attempt may start (0: now), spacing attempts by its maximum rate."""
    if not endpoint.webhook.max_rate:
        return 0.0
    return max(0.0, endpoint.last_start + 1.0 / endpoint.webhook.max_rate - now)


class Lanes:
    """The process's two budgets of attempts in flight: counts (an attempt in flight costs a socket, not a thread)."""

    def __init__(self, *, healthy: int, troubled: int) -> None:
        self.limits = {Lane.HEALTHY: healthy, Lane.TROUBLED: troubled}
        self.used = {Lane.HEALTHY: 0, Lane.TROUBLED: 0}

    def has_room(self, lane: Lane) -> bool:
        return self.used[lane] < self.limits[lane]

    def take(self, lane: Lane) -> None:
        self.used[lane] += 1

    def give_back(self, lane: Lane) -> None:
        self.used[lane] -= 1

    def move_to_troubled(self) -> None:
        """An attempt in flight went slow: it counts against the troubled lane now (even past its limit),
        and the healthy lane has its place back at once."""
        self.used[Lane.HEALTHY] -= 1
        self.used[Lane.TROUBLED] += 1
