"""Per-user rate limits on the actions that make us send requests ("Send test", "Send example", "Resend", "Recover")."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited
from redis.exceptions import RedisError

from .conf import conf

logger = logging.getLogger(__name__)


# What each rate-limited action is called in the messages that refuse it.
ACTION_NAMES = {"send_test": "tests and examples", "resend": "resends", "recover": "recoveries"}
_PERIODS = {"s": "second", "m": "minute", "h": "hour", "d": "day"}


def action_refusal(request: HttpRequest, *, action: str, key: str | Callable[[str, Any], str] = "user") -> str | None:
    """Count this request against the user's limit for the action; a message saying why once refused.

    Without Redis the count is unknown, and the action is refused rather than left unlimited.
    """
    plural = ACTION_NAMES[action]
    try:
        limited = is_ratelimited(
            request, group=f"integrations.{action}", key=key, rate=conf.ACTION_RATE, increment=True
        )
    except RedisError as error:
        logger.warning("rate limit of %s unknown (%s); refusing it for now", action, error)
        return (
            f"Nothing was sent: our rate limiter is unavailable right now, so {plural} are paused. Try again shortly."
        )
    if not limited:
        return None
    return f"Too many {plural}: {rate_in_words(conf.ACTION_RATE)} are allowed. Try again shortly."


def rate_in_words(rate: str) -> str:
    """ "5/m" as "5 per minute", "10/30s" as "10 per 30 seconds" (django-ratelimit's syntax)."""
    count, _, period = rate.partition("/")
    number, unit = period[:-1], _PERIODS.get(period[-1:], period)
    return f"{count} per {unit}" if number in {"", "1"} else f"{count} per {number} {unit}s"
