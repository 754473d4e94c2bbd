"""The RQ worker class of the webhooks queue: jobs hand their webhook to the process's sender."""

from __future__ import annotations

from typing import Any

from rq.worker import SimpleWorker

from .conf import conf
from .delivery import webhook_deliver_due
from .sender import sender_start, sender_stop


class WebhookWorker(SimpleWorker):
    """rq's non-forking worker, with a sender that keeps many endpoints in flight at once.

    Forking a child per job costs more than the job; and the sender's threads, not the job, do
    the waiting on receivers, so the worker's own loop is free for the next job at once.
    """

    def work(self, *args: Any, **kwargs: Any) -> bool:
        sender_start(webhook_deliver_due)
        try:
            return super().work(*args, **kwargs)
        finally:
            # A warm shutdown lets the sends in progress finish and record their attempts.
            sender_stop(timeout=conf.JOB_MAX_SECONDS + conf.ATTEMPT_TIMEOUT + 5)
