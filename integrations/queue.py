"""The RQ queue of webhook jobs: one queue object (and Redis connection) per process."""

from __future__ import annotations

from functools import cache

import django_rq
from redis import Redis
from rq import Queue

from .conf import conf


@cache
def webhooks_queue() -> Queue:
    # django_rq.get_queue() opens a new connection on every call; keep the first one.
    return django_rq.get_queue(conf.QUEUE_NAME)


def redis_connection() -> Redis:
    return webhooks_queue().connection


def forget_queue() -> None:
    """Drop the cached queue, for a changed RQ_QUEUES setting (tests) or after a fork."""
    webhooks_queue.cache_clear()
