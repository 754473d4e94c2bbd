"""System checks that catch a misconfigured integrations app at start-up."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from .conf import conf


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors: list[checks.CheckMessage] = []
    try:
        conf.RETRY_SCHEDULE  # noqa: B018 -- parsing is the check
    except ImproperlyConfigured as error:
        errors.append(
            checks.Error(str(error), hint="For example INTEGRATIONS_RETRY_SCHEDULE=5,300,1800", id="integrations.E001")
        )
    if conf.CLAIM_LEASE_SECONDS <= conf.JOB_MAX_SECONDS + conf.ATTEMPT_TIMEOUT:
        errors.append(
            checks.Error(
                "INTEGRATIONS_CLAIM_LEASE_SECONDS must be longer than a job can run "
                "(INTEGRATIONS_JOB_MAX_SECONDS + INTEGRATIONS_ATTEMPT_TIMEOUT), or a live job's claim expires.",
                hint="Raise INTEGRATIONS_CLAIM_LEASE_SECONDS.",
                id="integrations.E002",
            )
        )
    if conf.QUEUE_NAME not in getattr(settings, "RQ_QUEUES", {}):
        errors.append(
            checks.Error(
                f"RQ_QUEUES has no {conf.QUEUE_NAME!r} queue.",
                hint=f"Add RQ_QUEUES = {{'{conf.QUEUE_NAME}': {{'URL': REDIS_URL}}}} to your settings.",
                id="integrations.E003",
            )
        )
    return errors


def check_private_urls_in_production(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if conf.ALLOW_PRIVATE_URLS and not settings.DEBUG:
        return [
            checks.Error(
                "INTEGRATIONS_ALLOW_PRIVATE_URLS is on without DEBUG: webhooks could reach the server's own network.",
                hint="Unset INTEGRATIONS_ALLOW_PRIVATE_URLS in production; it is for local development and tests.",
                id="integrations.E004",
            )
        ]
    return []


def register() -> None:
    checks.register(check_settings, "integrations")
    checks.register(check_private_urls_in_production, "integrations", deploy=True)
