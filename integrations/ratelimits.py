"""Per-user rate limits on the actions that make us send requests ("Send test", "Resend")."""

from __future__ import annotations

import logging

from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited
from redis.exceptions import RedisError

from .conf import conf

logger = logging.getLogger(__name__)


def action_allowed(request: HttpRequest, *, action: str) -> bool:
    """Count this request against the user's limit for the action; False once over it.

    Without Redis the count is unknown, and the action is refused rather than left unlimited.
    """
    try:
        limited = is_ratelimited(
            request, group=f"integrations.{action}", key="user", rate=conf.ACTION_RATE, increment=True
        )
    except RedisError as error:
        logger.warning("rate limit of %s unknown (%s); refusing it for now", action, error)
        return False
    return not limited
