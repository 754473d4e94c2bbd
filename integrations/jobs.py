"""RQ jobs: thin entry points that take ids and call a service."""

from __future__ import annotations

from django.db import close_old_connections

from .queue import webhooks_job_started
from .sending.engine import Engine, engine_current


def deliver_webhooks(webhook_ids: list[int]) -> int:
    """Wake the sender for these endpoints: the worker's engine (0 here), or one run here when there is none."""
    webhooks_job_started(webhook_ids=webhook_ids)
    engine = engine_current()
    if engine is not None:
        engine.wake(webhook_ids)
        return 0
    # A plain rq worker lives long too; drop a database connection that broke or outlived CONN_MAX_AGE.
    close_old_connections()
    return Engine.deliver_once(webhook_ids)


def deliver_webhook(webhook_id: int) -> int:
    """One endpoint's wake-up: jobs queued (or scheduled as retries) by an earlier release have this form."""
    return deliver_webhooks([webhook_id])
