"""RQ jobs: thin entry points that take ids and call a service."""

from __future__ import annotations

from django.db import close_old_connections

from .delivery import webhook_deliver_due
from .queue import webhook_job_started
from .sender import sender_current


def deliver_webhook(webhook_id: int) -> int:
    """Send the webhook's due deliveries: on the worker's sender (0 here), or here when there is none."""
    webhook_job_started(webhook_id=webhook_id)
    sender = sender_current()
    if sender is not None:
        sender.submit(webhook_id)
        return 0
    # A worker lives long; drop a database connection that broke or outlived CONN_MAX_AGE.
    close_old_connections()
    return webhook_deliver_due(webhook_id=webhook_id).sent
