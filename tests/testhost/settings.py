"""Settings of the app's test host: a project with the app, both its optional parts, and nothing of DialogForm."""

import os
import secrets
import tempfile
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = f"tests-only-{secrets.token_urlsafe(48)}"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_rq",
    "django_htmx",
    "django_ratelimit",
    "rest_framework",
    "rest_framework_api_key",
    "drf_spectacular",
    "tests.testhost",
    "integrations",
    "integrations.contrib.api",
    "integrations.contrib.prometheus",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "tests.testhost.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# SQLite in a file (the suite's conftest names it), or the PostgreSQL of DATABASE_URL (bin/with-postgres).
# (A command run with these settings outside pytest gets a file in the temporary directory, not in the tree.)
DATABASES = {
    "default": dj_database_url.config(default="sqlite:///" + str(Path(tempfile.gettempdir()) / "testhost.sqlite3"))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Worker processes share the file with the test: writers wait for each other instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "static/"
LOGIN_URL = "/login/"
EMAIL_TIMEOUT = 10
DEFAULT_EXCEPTION_REPORTER_FILTER = "integrations.error_reports.SecretsHidingFilter"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")  # the suite's conftest sets its own
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
RQ_QUEUES = {"webhooks": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 120}}
RQ = {"WORKER_CLASS": "integrations.worker.WebhookWorker"}
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]

INTEGRATIONS_ACCOUNT_MODEL = "testhost.Team"
INTEGRATIONS_ADAPTER = "tests.testhost.integrations.HelpDeskAdapter"
INTEGRATIONS_PRODUCT_NAME = "Help Desk"
# What the suite's shared fixtures make objects with (tests/conftest.py).
TEST_HOST_OBJECTS = "tests.testhost.objects.HelpDeskObjects"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Help Desk API",
    "OAS_VERSION": "3.1.0",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "integrations.contrib.api.schema.add_notifications",
    ],
    "ENUM_NAME_OVERRIDES": {"SubscribableEventTypeEnum": "integrations.adapter.subscribable_names"},
}
