"""RQ jobs: thin entry points that take ids and call a service."""

from __future__ import annotations

from django.db import close_old_connections

from .queue import webhook_job_started
from .sending.engine import Engine, engine_current


def deliver_webhook(webhook_id: int) -> int:
    """Wake the sender for this endpoint: the worker's engine (0 here), or one run here when there is none."""
    webhook_job_started(webhook_id=webhook_id)
    engine = engine_current()
    if engine is not None:
        engine.wake([webhook_id])
        return 0
    # A plain rq worker lives long too; drop a database connection that broke or outlived CONN_MAX_AGE.
    close_old_connections()
    return Engine.deliver_once([webhook_id])
