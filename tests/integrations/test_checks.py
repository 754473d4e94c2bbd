"""System checks catch a misconfigured app at start-up, through `manage.py check`, each with a hint."""

from __future__ import annotations

from dataclasses import replace
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from hypothesis import given
from hypothesis import settings as settings_of_hypothesis
from hypothesis import strategies as st

from integrations.adapter import BaseAdapter
from integrations.catalog import OnDelete
from integrations.checks import check_private_urls_in_production
from tests.testhost.integrations import TICKET_CLOSED, TICKET_DELETED, HelpDeskAdapter


class MissingModelAdapter(HelpDeskAdapter):
    event_types = (replace(TICKET_DELETED, trigger=OnDelete(model="testhost.Conversation", build=lambda ticket: None)),)


class WrongFieldsAdapter(HelpDeskAdapter):
    event_types = (replace(TICKET_CLOSED, trigger=replace(TICKET_CLOSED.trigger, fields=("closed_at", "state"))),)


class NoEventsAdapter(HelpDeskAdapter):
    event_types = ()


class TestNamedAdapter(HelpDeskAdapter):
    event_types = (replace(TICKET_DELETED, name="test"),)


class ExampleUnlikeDataAdapter(HelpDeskAdapter):
    event_types = (replace(TICKET_DELETED, example={"ticketId": 1}),)


class NoAdminsAdapter(BaseAdapter):
    """Declares what it sends, but not who may manage it."""

    event_types = (TICKET_DELETED,)


class NotAnAdapter:
    """Has none of the adapter's methods."""


def not_a_class() -> None:
    """A function where a class is expected."""


def check_errors() -> str:
    """What `manage.py check` reports (empty when it passes)."""
    try:
        call_command("check", stdout=StringIO(), stderr=StringIO())
    except SystemCheckError as error:
        return str(error)
    return ""


def test_the_project_settings_pass() -> None:
    assert check_errors() == ""


@pytest.mark.parametrize(
    ("changes", "expected", "hint"),
    [
        ({"INTEGRATIONS_RETRY_SCHEDULE": "5,soon"}, "integrations.E001", "INTEGRATIONS_RETRY_SCHEDULE=5,300,1800"),
        ({"INTEGRATIONS_CLAIM_LEASE_SECONDS": 10}, "integrations.E002", "Raise INTEGRATIONS_CLAIM_LEASE_SECONDS"),
        ({"RQ_QUEUES": {"default": {"URL": "redis://127.0.0.1:1/0"}}}, "integrations.E003", "Add RQ_QUEUES"),
        ({"INTEGRATIONS_ACCOUNT_MODEL": "testhost.Company"}, "integrations.E010", "app_label.ModelName"),
        ({"INTEGRATIONS_ADAPTER": "no.such.Adapter"}, "integrations.E011", "INTEGRATIONS_ADAPTER"),
        ({"INTEGRATIONS_ADAPTER": f"{__name__}.NotAnAdapter"}, "integrations.E011", "BaseAdapter"),
        ({"INTEGRATIONS_ADAPTER": ""}, "integrations.E011", "INTEGRATIONS_ADAPTER to the dotted path"),
        ({"INTEGRATIONS_ADAPTER": f"{__name__}.not_a_class"}, "integrations.E011", "not a class"),
        ({"INTEGRATIONS_ADAPTER": f"{__name__}.NoAdminsAdapter"}, "integrations.E011", "account_for_admin"),
        ({"INTEGRATIONS_ADAPTER": f"{__name__}.NoEventsAdapter"}, "integrations.E012", "EventType"),
        ({"INTEGRATIONS_ADAPTER": f"{__name__}.TestNamedAdapter"}, "integrations.E012", "the app's own"),
        ({"INTEGRATIONS_ADAPTER": f"{__name__}.ExampleUnlikeDataAdapter"}, "integrations.E012", "example's fields"),
        ({"INTEGRATIONS_ADAPTER": f"{__name__}.MissingModelAdapter"}, "integrations.E013", "testhost.Conversation"),
        ({"INTEGRATIONS_ADAPTER": f"{__name__}.WrongFieldsAdapter"}, "integrations.E013", "testhost.Ticket.state"),
        (
            {"CACHES": {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}},
            "integrations.E014",
            "shared cache",
        ),
        ({"INTEGRATIONS_BASE_TEMPLATE": "no/such/base.html"}, "integrations.E015", "content"),
    ],
)
def test_each_mistake_is_reported_by_manage_py_check(
    settings: Any, changes: dict[str, Any], expected: str, hint: str
) -> None:
    for name, value in changes.items():
        setattr(settings, name, value)
    report = check_errors()
    assert expected in report
    assert hint in report
    # Only that mistake: each check says one thing.
    assert report.count("integrations.E") == 1, report


def test_a_missing_account_model_setting_is_reported(settings: Any) -> None:
    del settings.INTEGRATIONS_ACCOUNT_MODEL
    report = check_errors()
    assert "integrations.E010" in report
    assert "INTEGRATIONS_ACCOUNT_MODEL is not set" in report


def test_private_urls_without_debug_fail_the_deploy_check(settings: Any) -> None:
    settings.INTEGRATIONS_ALLOW_PRIVATE_URLS, settings.DEBUG = True, False
    assert [message.id for message in check_private_urls_in_production()] == ["integrations.E004"]
    with pytest.raises(SystemCheckError, match=r"integrations\.E004"):
        call_command("check", deploy=True, stdout=StringIO(), stderr=StringIO())
    settings.DEBUG = True
    assert check_private_urls_in_production() == []
    settings.INTEGRATIONS_ALLOW_PRIVATE_URLS, settings.DEBUG = False, False
    assert check_private_urls_in_production() == []


def test_without_django_rq_the_workers_command_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.apps import apps

    installed = apps.is_installed
    monkeypatch.setattr(apps, "is_installed", lambda name: name != "django_rq" and installed(name))
    report = check_errors()
    assert "integrations.E005" in report and "rqworker" in report


def test_without_django_htmx_the_pages_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.apps import apps

    installed = apps.is_installed
    monkeypatch.setattr(apps, "is_installed", lambda name: name != "django_htmx" and installed(name))
    report = check_errors()
    assert "integrations.E016" in report and "Add 'django_htmx' to INSTALLED_APPS" in report
    assert report.count("integrations.E") == 1, report


def test_metrics_without_a_shared_directory_are_reported(
    settings: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    from integrations.contrib.prometheus.checks import check_multiprocess_dir as check_metrics

    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    assert check_metrics() == []  # metrics off: nothing to say
    settings.INTEGRATIONS_METRICS_TOKEN = "t" * 40
    [unset] = check_metrics()
    assert unset.id == "integrations.W017" and "PROMETHEUS_MULTIPROC_DIR is unset" in unset.msg
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "missing"))
    [missing] = check_metrics()
    assert "is not a directory" in missing.msg
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    assert check_metrics() == []


def test_a_metrics_token_without_the_prometheus_part_is_a_warning(settings: Any) -> None:
    from integrations.checks import check_optional_parts

    settings.INTEGRATIONS_METRICS_TOKEN = "t" * 40
    assert check_optional_parts() == []  # the suite's project has the part
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "integrations.contrib.prometheus"]
    [warning] = check_optional_parts()
    assert warning.id == "integrations.W020" and "no /metrics" in warning.msg
    settings.INTEGRATIONS_METRICS_TOKEN = ""
    assert check_optional_parts() == []


def test_smtp_without_a_mail_timeout_is_a_warning(settings: Any) -> None:
    from integrations.checks import check_mail_timeout

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_TIMEOUT = None
    [warning] = check_mail_timeout()
    assert warning.id == "integrations.W018" and "EMAIL_TIMEOUT is not set" in warning.msg
    assert "Set EMAIL_TIMEOUT" in warning.hint
    settings.EMAIL_TIMEOUT = 10
    assert check_mail_timeout() == []
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    settings.EMAIL_TIMEOUT = None
    assert check_mail_timeout() == []  # nothing to wait for


def test_an_smtp_mailer_without_a_timeout_is_a_warning(settings: Any) -> None:
    """Django 6.1's MAILERS: each SMTP mailer needs its OPTIONS' timeout (read the same on any release)."""
    from integrations.checks import check_mail_timeout

    settings.MAILERS = {
        "default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": {"timeout": 10}},
        "bulk": {"OPTIONS": {"host": "mail.example.com"}},  # SMTP, the default backend
    }
    [warning] = check_mail_timeout()
    assert "MAILERS['bulk']['OPTIONS']['timeout'] is not set" in warning.msg
    settings.MAILERS["bulk"]["OPTIONS"]["timeout"] = 5
    assert check_mail_timeout() == []


def test_a_setting_of_the_thread_sender_is_a_warning_not_silence(settings: Any) -> None:
    from integrations.checks import check_retired_settings

    assert check_retired_settings() == []
    settings.INTEGRATIONS_SENDER_ENDPOINTS = 128
    [warning] = check_retired_settings()
    assert warning.id == "integrations.W019"
    assert "INTEGRATIONS_SENDER_ENDPOINTS no longer does anything" in warning.msg
    assert "INTEGRATIONS_SENDER_MAX_IN_FLIGHT" in (warning.hint or "")


MISTAKES = {
    "adapter unset": ("del INTEGRATIONS_ADAPTER", "integrations.E011"),
    "adapter not a class": (f"INTEGRATIONS_ADAPTER = '{__name__}.not_a_class'", "integrations.E011"),
    "not an adapter": (f"INTEGRATIONS_ADAPTER = '{__name__}.NotAnAdapter'", "integrations.E011"),
    "no admins": (f"INTEGRATIONS_ADAPTER = '{__name__}.NoAdminsAdapter'", "integrations.E011"),
    "no event types": (f"INTEGRATIONS_ADAPTER = '{__name__}.NoEventsAdapter'", "integrations.E012"),
    "wrong model": (f"INTEGRATIONS_ADAPTER = '{__name__}.MissingModelAdapter'", "integrations.E013"),
    "wrong field": (f"INTEGRATIONS_ADAPTER = '{__name__}.WrongFieldsAdapter'", "integrations.E013"),
    "no django_rq": ("INSTALLED_APPS = [app for app in INSTALLED_APPS if app != 'django_rq']", "integrations.E005"),
    "a wrong value": ("INTEGRATIONS_ATTEMPT_TIMEOUT = 'soon'", "integrations.E001"),
    "a cache per process": (
        "CACHES = {'default': {'BACKEND': 'django.core.cache.backends.locmem.LocMemCache'}}",
        "integrations.E014",
    ),
    # The API part on, its base apps left out, URLs as docs/install.md writes them.
    "the API without its base apps": (
        "INSTALLED_APPS = [app for app in INSTALLED_APPS if not app.startswith('rest_framework')]\n"
        "ROOT_URLCONF = 'install_md_urls'",
        "integrations.E021",
    ),
}

# The URLs docs/install.md has a host add, the optional parts' included.
INSTALL_MD_URLS = """
from django.urls import include, path, re_path

from integrations.contrib.api import urls as integrations_api_urls
from integrations.contrib.api.fallbacks import api_not_found

urlpatterns = [
    path("integrations/", include("integrations.urls")),
    path("", include("integrations.operator_urls")),
    path("", include("integrations.contrib.prometheus.urls")),
    path("api/v1/", include((integrations_api_urls.urlpatterns, "api"))),
    re_path(r"^api/", api_not_found),
]
"""


@pytest.mark.once
@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_a_process_started_with_the_mistake_reports_it_without_a_traceback(mistake: str, tmp_path: Any) -> None:
    """What a stranger sees: `manage.py check` in a process of its own, set up with the mistake."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    change, expected = MISTAKES[mistake]
    (tmp_path / "mistaken_settings.py").write_text(f"from tests.testhost.settings import *  # noqa: F403\n\n{change}\n")
    (tmp_path / "install_md_urls.py").write_text(INSTALL_MD_URLS)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": f"{tmp_path}:{root}", "DJANGO_SETTINGS_MODULE": "mistaken_settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert expected in done.stderr, done.stderr[-2000:]
    assert "Traceback" not in done.stderr + done.stdout, done.stderr[-2000:]


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("ATTEMPT_TIMEOUT", "soon", "must be a number"),
        ("ATTEMPT_TIMEOUT", 0, "must be more than 0"),
        ("ATTEMPT_TIMEOUT", float("nan"), "finite"),
        ("SWEEP_GRACE", -1, "must be at least 0"),
        ("ENDPOINT_CONCURRENCY", 0, "must be at least 1"),
        ("ENDPOINT_CONCURRENCY", 2.5, "must be a whole number"),
        ("ENDPOINT_CONCURRENCY", True, "must be a whole number"),
        ("RETRY_JITTER", 2, "must be at most 1"),
        ("ALLOW_PRIVATE_URLS", "yes", "must be True or False"),
        ("API_RATE", "lots", "must be a rate"),
        ("ACTION_RATE", "5 per minute", "must be a rate"),
        ("METRICS_PREFIX", "my-webhooks", "Prometheus metric name"),
        ("USER_AGENT", "Acme\r\nX-Injected: 1", "printable ASCII"),
        ("QUEUE", "", "cannot be empty"),
        ("PRODUCT_NAME", 42, "must be text"),
        ("RETRY_SCHEDULE", "5,soon", "comma-separated seconds"),
    ],
)
def test_a_wrong_value_of_any_setting_fails_check_naming_it(settings: Any, name: str, value: Any, said: str) -> None:
    setattr(settings, f"INTEGRATIONS_{name}", value)
    report = check_errors()
    assert f"INTEGRATIONS_{name} " in report and said in report, report
    assert report.count("integrations.E") == 1, report


def test_numbers_from_the_environment_are_read_as_numbers(settings: Any) -> None:
    from integrations.conf import conf

    settings.INTEGRATIONS_ATTEMPT_TIMEOUT, settings.INTEGRATIONS_BATCH_SIZE = "7.5", "20"
    assert (conf.ATTEMPT_TIMEOUT, conf.BATCH_SIZE) == (7.5, 20)
    assert check_errors() == ""


def test_every_setting_is_in_the_table_and_read_through_it() -> None:
    from integrations.conf import SETTINGS, Settings

    properties = {name for name, value in vars(Settings).items() if isinstance(value, property)}
    assert properties == set(SETTINGS)


@given(
    value=st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20), st.lists(st.integers(), max_size=3)
    )
)
@settings_of_hypothesis(max_examples=200, deadline=None)
def test_any_value_of_any_setting_is_read_or_refused_by_name(value: Any) -> None:
    """Whatever a settings file holds, reading gives a value of the setting's kind or an ImproperlyConfigured
    that names the setting: never a TypeError or ValueError from deep inside a worker."""
    from django.core.exceptions import ImproperlyConfigured

    from integrations.conf import SETTINGS

    for name, setting in SETTINGS.items():
        try:
            read = setting.value(name, value)
        except ImproperlyConfigured as error:
            assert f"INTEGRATIONS_{name}" in str(error)
            continue
        expected = {"text": str, "flag": bool, "whole": int, "number": float, "schedule": tuple}[setting.kind]
        assert isinstance(read, expected), (name, value, read)
