"""System checks that catch a misconfigured integrations app at start-up (`manage.py check`), with a hint."""

from __future__ import annotations

import warnings
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils.module_loading import import_string

from .adapter import ADAPTER_MEMBERS, BaseAdapter
from .catalog import TEST, EventType, OnDelete, OnSave
from .conf import SETTINGS, conf, read

# Caches that do not share counts between processes: a rate limit kept in one counts per process.
UNSHARED_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}
ADAPTER_HINT = (
    "Set INTEGRATIONS_ADAPTER to the dotted path of a subclass of integrations.adapter.BaseAdapter "
    "(see docs/install.md, 'The adapter')."
)
# The longest event type name the Event table holds.
EVENT_TYPE_NAME_MAX = 40


# What a right value looks like, where the default does not show it well.
SETTING_EXAMPLES = {"RETRY_SCHEDULE": "INTEGRATIONS_RETRY_SCHEDULE=5,300,1800"}


def check_values() -> list[checks.CheckMessage]:
    """Every setting of the app against its kind and bounds (conf.SETTINGS), each mistake with its name."""
    errors: list[checks.CheckMessage] = []
    for name, setting in SETTINGS.items():
        try:
            read(name)
        except ImproperlyConfigured as error:
            example = SETTING_EXAMPLES.get(name, f"INTEGRATIONS_{name} = {setting.default!r} (the default)")
            hint = f"For example {example}; see docs/install.md, 'Every setting'."
            errors.append(checks.Error(str(error), hint=hint, id="integrations.E001"))
    return errors


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    errors = check_values()
    if errors:
        return errors  # the comparisons below would read the wrong values
    if conf.CLAIM_LEASE_SECONDS <= conf.JOB_MAX_SECONDS + conf.ATTEMPT_TIMEOUT:
        errors.append(
            checks.Error(
                "INTEGRATIONS_CLAIM_LEASE_SECONDS must be longer than a job can run "
                "(INTEGRATIONS_JOB_MAX_SECONDS + INTEGRATIONS_ATTEMPT_TIMEOUT), or a live job's claim expires.",
                hint="Raise INTEGRATIONS_CLAIM_LEASE_SECONDS.",
                id="integrations.E002",
            )
        )
    if not apps.is_installed("django_rq"):
        # The queue's settings and the `rqworker` command the workers run come with it.
        errors.append(
            checks.Error(
                "'django_rq' is not in INSTALLED_APPS: the workers' command (manage.py rqworker) would not exist.",
                hint="Add 'django_rq' to INSTALLED_APPS (django-rq is installed with the app).",
                id="integrations.E005",
            )
        )
    if conf.QUEUE not in getattr(settings, "RQ_QUEUES", {}):
        errors.append(
            checks.Error(
                f"RQ_QUEUES has no {conf.QUEUE!r} queue.",
                hint=f"Add RQ_QUEUES = {{'{conf.QUEUE}': {{'URL': REDIS_URL}}}} to your settings.",
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


def _model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def check_host(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The account model, the adapter, and the models and fields it reads."""
    errors: list[checks.CheckMessage] = []
    if not conf.ACCOUNT_MODEL:
        errors.append(
            checks.Error(
                "INTEGRATIONS_ACCOUNT_MODEL is not set: webhooks belong to an account of the host.",
                hint='Name the host\'s account model, e.g. INTEGRATIONS_ACCOUNT_MODEL = "organizations.Organization".',
                id="integrations.E010",
            )
        )
    elif _model(conf.ACCOUNT_MODEL) is None:
        errors.append(
            checks.Error(
                f"INTEGRATIONS_ACCOUNT_MODEL names {conf.ACCOUNT_MODEL!r}, which is not an installed model.",
                hint="Use the 'app_label.ModelName' of a model in INSTALLED_APPS.",
                id="integrations.E010",
            )
        )
    if not conf.ADAPTER:
        return [
            *errors,
            checks.Error(
                "INTEGRATIONS_ADAPTER is not set: the app needs the host's adapter to know what it sends.",
                hint=ADAPTER_HINT,
                id="integrations.E011",
            ),
        ]
    try:
        adapter_class = import_string(conf.ADAPTER)
    except Exception as error:  # any failure to import it is the same mistake to report
        return [*errors, _adapter_error(f"cannot be imported: {type(error).__name__}: {error}")]
    if not isinstance(adapter_class, type):
        return [*errors, _adapter_error(f"is a {type(adapter_class).__name__}, not a class.")]
    try:
        adapter = adapter_class()
    except Exception as error:
        return [*errors, _adapter_error(f"cannot be made: {type(error).__name__}: {error}")]
    missing = [name for name in ADAPTER_MEMBERS if not hasattr(adapter, name)]
    if missing:
        return [*errors, _adapter_error(f"is not an adapter: it has no {', '.join(sorted(missing))}.")]
    if type(adapter).account_for_admin is BaseAdapter.account_for_admin and (
        type(adapter).accounts_for_admin is BaseAdapter.accounts_for_admin
    ):
        errors.append(
            _adapter_error(
                "does not say who administers an account: no one could open the Integrations page.",
                hint="Implement account_for_admin(user) (or accounts_for_admin(user)) on the adapter.",
            )
        )
    return [*errors, *check_catalog(adapter.event_types, adapter=type(adapter).__name__)]


def _adapter_error(problem: str, hint: str = ADAPTER_HINT) -> checks.Error:
    return checks.Error(f"INTEGRATIONS_ADAPTER {conf.ADAPTER!r} {problem}", hint=hint, id="integrations.E011")


def check_catalog(event_types: object, *, adapter: str) -> list[checks.CheckMessage]:
    """The adapter's event types: declared, each well formed, named once, built from installed models."""
    hint = f"See the event types of {adapter} and docs/install.md, 'The event catalog'."
    if isinstance(event_types, str) or not isinstance(event_types, list | tuple) or not event_types:
        return [
            checks.Error(
                f"{adapter}.event_types declares no event types: the app would send nothing.",
                hint="List the notifications the host sends: a tuple of integrations.catalog.EventType.",
                id="integrations.E012",
            )
        ]
    errors: list[checks.CheckMessage] = []
    seen: set[str] = set()
    for event_type in event_types:
        if not isinstance(event_type, EventType):
            errors.append(
                checks.Error(
                    f"{adapter}.event_types holds {event_type!r}, not an EventType.", hint=hint, id="integrations.E012"
                )
            )
            continue
        for problem in _event_type_problems(event_type, seen):
            errors.append(checks.Error(f"Event type {event_type.name!r}: {problem}", hint=hint, id="integrations.E012"))
        seen.add(event_type.name)
        errors.extend(_trigger_problems(event_type, hint))
    return errors


def _event_type_problems(event_type: EventType, seen: set[str]) -> list[str]:
    problems = []
    if not event_type.name or len(event_type.name) > EVENT_TYPE_NAME_MAX or not event_type.name.isprintable():
        problems.append(f"a name is 1 to {EVENT_TYPE_NAME_MAX} printable characters.")
    if event_type.name == TEST:
        problems.append("the name 'test' is the app's own (\"Send test\").")
    if event_type.name in seen:
        problems.append("declared twice.")
    if set(event_type.example) != set(event_type.data):
        problems.append("its example's fields differ from its data's fields.")
    if event_type.sent_example is not None and set(event_type.sent_example) != set(event_type.data):
        problems.append("its sent example's fields differ from its data's fields.")
    if event_type.trigger is not None and not isinstance(event_type.trigger, OnSave | OnDelete):
        problems.append("its trigger is neither OnSave nor OnDelete.")
    return problems


def _trigger_problems(event_type: EventType, hint: str) -> list[checks.CheckMessage]:
    trigger = event_type.trigger
    if not isinstance(trigger, OnSave | OnDelete):
        return []
    model = _model(trigger.model)
    if model is None:
        return [
            checks.Error(
                f"Event type {event_type.name!r} is built from {trigger.model!r}, which is not an installed model.",
                hint="Name the model as 'app_label.ModelName', of an app in INSTALLED_APPS.",
                id="integrations.E013",
            )
        ]
    errors: list[checks.CheckMessage] = []
    for name in trigger.fields:
        try:
            model._meta.get_field(name)
        except FieldDoesNotExist:
            errors.append(
                checks.Error(
                    f"Event type {event_type.name!r} reads {trigger.model}.{name}, which does not exist.",
                    hint=hint,
                    obj=model,
                    id="integrations.E013",
                )
            )
    return errors


def check_shared_cache(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    alias = getattr(settings, "RATELIMIT_USE_CACHE", "default")
    backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
    if backend in UNSHARED_CACHES:
        return [
            checks.Error(
                f"The cache {alias!r} ({backend.rsplit('.', 1)[-1]}) is not shared between processes: the limits on "
                "'Send test' and 'Resend' would count per process, and the web server runs several.",
                hint=f"Use a shared cache (Redis, Memcached or the database) for CACHES[{alias!r}].",
                id="integrations.E014",
            )
        ]
    return []


def check_templates(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if not apps.is_installed("django_htmx"):
        # The pages load htmx from django-htmx's static files (no CDN); without it a static-files
        # manifest has no entry for it, and every Integrations page fails.
        return [
            checks.Error(
                "'django_htmx' is not in INSTALLED_APPS: the Integrations pages load htmx from its static files.",
                hint="Add 'django_htmx' to INSTALLED_APPS (django-htmx is installed with the app).",
                id="integrations.E016",
            )
        ]
    try:
        get_template(conf.BASE_TEMPLATE)
    except TemplateDoesNotExist:
        return [
            checks.Error(
                f"INTEGRATIONS_BASE_TEMPLATE {conf.BASE_TEMPLATE!r} cannot be found.",
                hint="Unset it to use the app's own 'integrations/base.html', or name a template of the host "
                "that has a 'content' block.",
                id="integrations.E015",
            )
        ]
    return []


PROMETHEUS_APP = "integrations.contrib.prometheus"


def check_optional_parts(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A setting of an optional part set, without the part: what it would do silently does not happen."""
    if conf.METRICS_TOKEN and not apps.is_installed(PROMETHEUS_APP):
        return [
            checks.Warning(
                f"INTEGRATIONS_METRICS_TOKEN is set but {PROMETHEUS_APP!r} is not in INSTALLED_APPS: "
                "nothing is counted and there is no /metrics.",
                hint=f"Install the wheel's prometheus extra, add {PROMETHEUS_APP!r} to "
                'INSTALLED_APPS and path("", include("integrations.contrib.prometheus.urls")) to your URLs; '
                "or unset the token.",
                id="integrations.W020",
            )
        ]
    return []


SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def _mail_without_timeout() -> str | None:
    """The setting to give a timeout, where e-mail goes out through SMTP without one; None when all is well.

    Django 6.1 configures mail in MAILERS (each SMTP mailer's OPTIONS["timeout"]), earlier releases in
    EMAIL_BACKEND and EMAIL_TIMEOUT, which 6.1 still reads (with a deprecation warning) when MAILERS is unset.
    """
    mailers: dict[str, Any] | None = getattr(settings, "MAILERS", None)
    if mailers is not None:
        for alias, config in mailers.items():
            if config.get("BACKEND", SMTP_BACKEND) == SMTP_BACKEND and config.get("OPTIONS", {}).get("timeout") is None:
                return f"MAILERS[{alias!r}]['OPTIONS']['timeout']"
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Django 6.1 warns that these settings are deprecated: the host's to move
        smtp = getattr(settings, "EMAIL_BACKEND", SMTP_BACKEND) == SMTP_BACKEND
        timeout = getattr(settings, "EMAIL_TIMEOUT", None)
    return "EMAIL_TIMEOUT" if smtp and timeout is None else None


def check_mail_timeout(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    missing = _mail_without_timeout()
    if missing is None:
        return []
    # Off the sending path either way; without a timeout a mail server that hangs holds the signals' thread
    # for ever, and every signal after it (other accounts' alerts, a host's receivers) waits behind it.
    return [
        checks.Warning(
            f"{missing} is not set: a mail server that accepts and never answers would hold the "
            "endpoint alerts, and every signal after them, for ever.",
            hint=f"Set {missing}, e.g. to 10 (seconds).",
            id="integrations.W018",
        )
    ]


# Settings of earlier releases that no longer do anything, and what replaced them.
RETIRED_SETTINGS = {
    "INTEGRATIONS_SENDER_ENDPOINTS": "INTEGRATIONS_SENDER_MAX_IN_FLIGHT (attempts in flight, not endpoints)",
    "INTEGRATIONS_SENDER_TROUBLED_ENDPOINTS": "INTEGRATIONS_SENDER_TROUBLED_IN_FLIGHT (attempts in flight)",
    "INTEGRATIONS_LEDGER_SECONDS": "nothing: attempts are written as soon as the writer is free",
}


def check_retired_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    return [
        checks.Warning(
            f"{name} no longer does anything: the worker sends on one event loop now.",
            hint=f"Remove it; see {replacement}, and CHANGELOG.md.",
            id="integrations.W019",
        )
        for name, replacement in RETIRED_SETTINGS.items()
        if hasattr(settings, name)
    ]


def register() -> None:
    checks.register(check_retired_settings, "integrations")
    checks.register(check_settings, "integrations")
    checks.register(check_host, "integrations")
    checks.register(check_shared_cache, "integrations")
    checks.register(check_templates, "integrations", "templates")
    checks.register(check_optional_parts, "integrations")
    checks.register(check_mail_timeout, "integrations")
    checks.register(check_private_urls_in_production, "integrations", deploy=True)
