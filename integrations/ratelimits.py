"""Rate limits counted in the shared cache: each user's actions that make us send requests ("Send test",
"Send example", "Resend", "Recover"), and what to do when the cache (Redis) cannot count."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

from .conf import conf

logger = logging.getLogger(__name__)


# What each rate-limited action is called in the messages that refuse it.
ACTION_NAMES = {"send_test": "tests and examples", "resend": "resends", "recover": "recoveries", "retry_now": "retries"}
_PERIODS = {"s": "second", "m": "minute", "h": "hour", "d": "day"}
# How long a client is asked to wait when the limiter cannot count (Redis is down): a restart's time.
LIMITER_DOWN_RETRY_AFTER = 30
# One warning per this many seconds and per limiter while the cache is down, not one per request.
LIMITER_DOWN_WARNING_EVERY = 60.0


@dataclass(frozen=True)
class Refusal:
    """Why an action cannot run now, for people, and when to try again (Retry-After)."""

    message: str
    retry_after: int
    # The limiter could not count (a 503, the service's fault), rather than the user over the limit (a 429).
    limiter_down: bool = False


def action_refusal(
    request: HttpRequest, *, action: str, key: str | Callable[[str, Any], str] = "user"
) -> Refusal | None:
    """Count this request against the user's limit for the action; a Refusal once over it.

    Without Redis the count is unknown, and the action is refused rather than left unlimited.
    """
    plural = ACTION_NAMES[action]
    try:
        usage = get_usage(request, group=f"integrations.{action}", key=key, rate=conf.ACTION_RATE, increment=True)
    except RedisError as error:
        limiter_down("actions", error)
        return _limiter_down_refusal(plural)
    if usage is None or not usage["should_limit"]:
        return None
    if usage["time_left"] < 0:  # the cache answered, but could not count
        return _limiter_down_refusal(plural)
    wait = max(1, math.ceil(usage["time_left"]))
    return Refusal(
        f"Too many {plural}: {rate_in_words(conf.ACTION_RATE)} are allowed. Try again in {wait} seconds.",
        retry_after=wait,
    )


def _limiter_down_refusal(plural: str) -> Refusal:
    return Refusal(
        f"Nothing was sent: our rate limiter is unavailable right now, so {plural} are paused. "
        f"Try again in {LIMITER_DOWN_RETRY_AFTER} seconds.",
        retry_after=LIMITER_DOWN_RETRY_AFTER,
        limiter_down=True,
    )


_warned_at: dict[str, float] = {}
_warned_lock = threading.Lock()


def limiter_down(limiter: str, error: Exception) -> None:
    """Log that a limiter cannot count (the cache is down): once a minute, without a traceback."""
    now = time.monotonic()
    with _warned_lock:
        if now - _warned_at.get(limiter, -math.inf) < LIMITER_DOWN_WARNING_EVERY:
            return
        _warned_at[limiter] = now
    logger.warning(
        "rate limit of %s cannot be counted (%s: %s); said once a minute while it lasts",
        limiter,
        type(error).__name__,
        error,
        extra={"limiter": limiter, "error": type(error).__name__},
    )


def rate_in_words(rate: str) -> str:
    """ "5/m" as "5 per minute", "10/30s" as "10 per 30 seconds" (django-ratelimit's syntax)."""
    count, _, period = rate.partition("/")
    number, unit = period[:-1], _PERIODS.get(period[-1:], period)
    return f"{count} per {unit}" if number in {"", "1"} else f"{count} per {number} {unit}s"
