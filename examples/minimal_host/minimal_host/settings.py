"""A small host project: teams run surveys, people submit them, team admins review the answers.

Everything the integrations app needs is here: the app and its dependencies in INSTALLED_APPS,
the account model, the adapter, a shared cache, the RQ queue, and the base template.
"""

import os
from pathlib import Path

import django

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ.get("SECRET_KEY", "example-host-only-not-a-secret")
DEBUG = os.environ.get("DEBUG", "") == "1"
ALLOWED_HOSTS = ["localhost", "127.0.0.1", "testserver"]

INSTALLED_APPS = [
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
    "surveys",
    "integrations",
    "integrations.contrib.api",  # the details API and the API keys tab (the api extra)
    "integrations.contrib.prometheus",  # /metrics (the prometheus extra)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "minimal_host.urls"
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
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("EXAMPLE_DATABASE", str(BASE_DIR / "example.sqlite3")),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
STATIC_URL = "static/"
LOGIN_URL = "/login/"

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# Shared by every process, so that the limits on "Send test" and "Resend" count across them.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
# A mail server that never answers is given up on after this many seconds (the endpoint alerts):
# in MAILERS from Django 6.1, in EMAIL_TIMEOUT before.
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": {"timeout": 10}}}
else:
    EMAIL_TIMEOUT = 10
RQ_QUEUES = {"webhooks": {"URL": REDIS_URL}}
RQ = {"WORKER_CLASS": "integrations.worker.WebhookWorker"}

# The integrations app: whose webhooks (the account), and what it knows of this project (the adapter).
INTEGRATIONS_ACCOUNT_MODEL = "surveys.Team"
INTEGRATIONS_ADAPTER = "surveys.integrations.SurveysAdapter"
INTEGRATIONS_BASE_TEMPLATE = "base.html"
INTEGRATIONS_PRODUCT_NAME = "Survey Desk"
INTEGRATIONS_ALLOW_PRIVATE_URLS = DEBUG or os.environ.get("INTEGRATIONS_ALLOW_PRIVATE_URLS", "") == "1"

# django-ratelimit lists the caches it was tested with; Django's own Redis cache shares counts all the same.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
