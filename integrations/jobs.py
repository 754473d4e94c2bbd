"""RQ jobs: thin entry points that take ids and call a service."""

from __future__ import annotations

from django.db import close_old_connections

from .delivery import webhook_deliver_due
from .dispatch import webhook_job_started


def deliver_webhook(webhook_id: int) -> int:
    """Send the webhook's due deliveries; returns how many attempts were made."""
    # A worker lives long; drop a database connection that broke or outlived CONN_MAX_AGE.
    close_old_connections()
    webhook_job_started(webhook_id=webhook_id)
    return webhook_deliver_due(webhook_id=webhook_id).sent
