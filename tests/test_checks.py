"""System checks catch a misconfigured app at start-up, with a hint."""

from __future__ import annotations

from typing import Any

from integrations.checks import check_private_urls_in_production, check_settings


def ids(messages: list[Any]) -> list[str]:
    return [message.id for message in messages]


def test_the_project_settings_pass(settings: Any) -> None:
    assert check_settings() == []


def test_a_bad_retry_schedule_is_reported(settings: Any) -> None:
    settings.INTEGRATIONS_RETRY_SCHEDULE = "5,soon"
    assert ids(check_settings()) == ["integrations.E001"]


def test_a_lease_shorter_than_a_job_is_reported(settings: Any) -> None:
    settings.INTEGRATIONS_CLAIM_LEASE_SECONDS = 10
    assert ids(check_settings()) == ["integrations.E002"]


def test_a_missing_queue_is_reported(settings: Any) -> None:
    settings.RQ_QUEUES = {"default": {"URL": "redis://127.0.0.1:6379/0"}}
    assert ids(check_settings()) == ["integrations.E003"]


def test_private_urls_without_debug_fail_the_deploy_check(settings: Any) -> None:
    settings.INTEGRATIONS_ALLOW_PRIVATE_URLS, settings.DEBUG = True, False
    assert ids(check_private_urls_in_production()) == ["integrations.E004"]
    settings.DEBUG = True
    assert check_private_urls_in_production() == []
    settings.INTEGRATIONS_ALLOW_PRIVATE_URLS, settings.DEBUG = False, False
    assert check_private_urls_in_production() == []
