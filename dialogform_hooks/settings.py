"""Settings for DialogForm Hooks, read from the environment (see README "Configuration")."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from .logging_config import logging_config

# Lets `admin.ModelAdmin[Webhook]` and other typed generics work at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1/0, true/false, yes/no or on/off, not {value!r}")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        # A key written in the repository signs nobody's sessions but a developer's.
        raise ImproperlyConfigured(
            "Set SECRET_KEY to a long random string (or DEBUG=1 for local development, which uses a development key)."
        )
    # "django-insecure-": `check --deploy` warns about it wherever it ends up.
    SECRET_KEY = "django-insecure-dialogform-hooks-development-only-key-0123456789"  # noqa: S105 -- DEBUG only

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # runserver leaves static files to WhiteNoise too, so development serves them as production does.
    "whitenoise.runserver_nostatic",
    "dialogform_hooks.apps.StaticFiles",  # django.contrib.staticfiles, less what is never served
    "rest_framework",
    "rest_framework_api_key",  # its abstract key model is the base of the API part's AccountAPIKey
    "drf_spectacular",
    "drf_spectacular_sidecar",  # ReDoc served from our static files, no CDN
    "django_rq",
    "django_htmx",
    "django_ratelimit",
    "axes",
    "accounts",
    "chats",
    "integrations",
    "integrations.contrib.api",  # the details API and the API keys tab
    "integrations.contrib.prometheus",  # /metrics
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (collected by `collectstatic`), compressed and cached, before any other work.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything reads the request: text a database cannot store is a 400, never a 500.
    "dialogform_hooks.middleware.UnstorableTextRefusedMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout answer.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Counts failed logins and refuses a username (from one address) after too many.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "dialogform_hooks.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.current_account",
            ],
        },
    },
]

WSGI_APPLICATION = "dialogform_hooks.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Kept open between requests and jobs (a worker reconnecting for every job is slow on
        # PostgreSQL), and checked before reuse so a dropped connection is replaced, not used.
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Writers wait for each other instead of failing at once ("database is locked"), and with a
    # write-ahead log the web process, the workers and the sweeper read while one of them writes.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = os.environ.get("STATIC_ROOT") or BASE_DIR / "staticfiles"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Error reports hide signing secrets wherever they sit (see integrations/error_reports.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "integrations.error_reports.SecretsHidingFilter"

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
# Seconds before a mail server that does not answer is given up on (the alert is logged as not sent).
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "DialogForm <notifications@dialogform.invalid>")

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")

CACHES = {
    # Shared by every web process: rate limits count across all of them.
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "cache"},
}

# Login throttling (django-axes): 5 failures lock a username from one address for 15 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_LOCKOUT_CALLABLE = "dialogform_hooks.lockout.lockout_response"  # the template, with Retry-After
AXES_RESET_ON_SUCCESS = True

# "Send test" and "Resend" are rate-limited per user in Redis (django-ratelimit); Django's own
# RedisCache increments atomically, though django-ratelimit does not list it yet.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]

RQ_QUEUES = {
    "webhooks": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 120},
}
# Jobs run in the worker process itself (forking a child per job costs more than the job), and wake
# its sending engine, which sends to every endpoint at once on an event loop (integrations/sending/).
RQ = {"WORKER_CLASS": "integrations.worker.WebhookWorker"}
# The queue dashboard is served at /admin/django-rq/ for superusers only (dialogform_hooks/queue_dashboard.py),
# not through django-rq's own admin entry, which lets any staff user in.
RQ_SHOW_ADMIN_LINK = False

# integrations: its knobs, with their defaults, live in integrations/conf.py.
INTEGRATIONS_ACCOUNT_MODEL = "accounts.Account"
# What DialogForm sends (its three notifications) and who administers an account.
INTEGRATIONS_ADAPTER = "chats.integrations.DialogFormAdapter"
INTEGRATIONS_PRODUCT_NAME = "DialogForm"
INTEGRATIONS_USER_AGENT = "DialogForm-Webhooks"
# The metrics' names, as DialogForm's dashboards and alerts know them (docs/deploy.md).
INTEGRATIONS_METRICS_PREFIX = "dialogform_webhook"
# The integrations pages show in the product's own page, with its avatar menu.
INTEGRATIONS_BASE_TEMPLATE = "base.html"
# The session key of the avatar menu's account switcher (accounts.selectors.ACCOUNT_SESSION_KEY).
INTEGRATIONS_ACCOUNT_SESSION_KEY = "account_id"
INTEGRATIONS_ALLOW_PRIVATE_URLS = env_bool("INTEGRATIONS_ALLOW_PRIVATE_URLS", default=False)
if os.environ.get("INTEGRATIONS_RETRY_SCHEDULE") is not None:
    INTEGRATIONS_RETRY_SCHEDULE = os.environ["INTEGRATIONS_RETRY_SCHEDULE"]
INTEGRATIONS_RETENTION_DAYS = float(os.environ.get("INTEGRATIONS_RETENTION_DAYS", "30"))
INTEGRATIONS_DISABLE_AFTER_DAYS = float(os.environ.get("INTEGRATIONS_DISABLE_AFTER_DAYS", "5"))
# /healthz answers 503 once the oldest due delivery has waited longer than this (seconds).
INTEGRATIONS_HEALTHZ_MAX_DUE_AGE = float(os.environ.get("HEALTHZ_MAX_DUE_AGE", "300"))
# /metrics exists only with a token, and answers only `Authorization: Bearer <token>`.
INTEGRATIONS_METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")

try:
    LOGGING = logging_config(
        loggers={
            "integrations": {"level": os.environ.get("INTEGRATIONS_LOG_LEVEL", "INFO")},
            # Django's own lines (errors, refused requests) through the same handler, in the same format.
            "django": {
                "handlers": ["console"],
                "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO"),
                "propagate": False,
            },
        }
    )
except ValueError as error:
    raise ImproperlyConfigured(str(error)) from error

# The details API (/api/v1/): its views set their own keys, rate, renderers and pages (integrations.contrib.api.base);
# these say how the schema is generated and served.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Only the API's own views answer; nothing else falls back to sessions or the browsable API.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "DialogForm details API",
    "DESCRIPTION": (
        "From a webhook notification to everything about its event. Authenticate with an account API key: "
        "`Authorization: Api-Key <key>` (account admins create keys on the Integrations page)."
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "integrations.contrib.api.schema.add_notifications",  # the notification bodies, as components and webhooks
    ],
    "ENUM_NAME_OVERRIDES": {
        "ChatStatusEnum": "chats.models.Chat.Status",
        "DeliveryStatusEnum": "integrations.models.Delivery.Status",
        "SubscribableEventTypeEnum": "integrations.adapter.subscribable_names",
    },
}
