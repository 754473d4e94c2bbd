"""The RQ worker class of the webhooks queue: its jobs wake the process's sending engine."""

from __future__ import annotations

from typing import Any

from rq.worker import SimpleWorker

from .conf import conf
from .queue import wakes_sent
from .sending.engine import engine_start, engine_stop


class WebhookWorker(SimpleWorker):
    """rq's non-forking worker, with a sending engine that keeps every endpoint's attempts in flight at once.

    Forking a child per job costs more than the job; and the engine, not the job, does the sending,
    so the worker's own loop is free for the next job (wake-up) at once.
    """

    def work(self, *args: Any, **kwargs: Any) -> bool:
        # A worker started in the process that committed (a test, a one-off script) first lets that
        # process's wake-ups reach the queue, so that a burst finds them.
        wakes_sent()
        engine_start()
        try:
            return super().work(*args, **kwargs)
        finally:
            # A warm shutdown: the attempts in flight end and are recorded, what was not sent is given back.
            # A burst worker (tests, a one-off run) first sends what its jobs woke.
            engine_stop(timeout=conf.ATTEMPT_TIMEOUT + 10, drain=bool(kwargs.get("burst")))
