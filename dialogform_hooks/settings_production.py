"""Production settings: the environment-driven base with every deployment safeguard on."""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

from .settings import *  # noqa: F403
from .settings import env_bool, env_list

if env_bool("DEBUG", default=False):
    # Debug pages show settings and code to anyone who can make an error.
    raise ImproperlyConfigured("DEBUG is for development; unset it (or set DEBUG=0) with the production settings.")
DEBUG = False

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("Set SECRET_KEY to a random string of at least 50 characters.")

if INTEGRATIONS_ALLOW_PRIVATE_URLS:  # noqa: F405
    # Webhooks could then reach this server's own network (cloud metadata, databases, admin ports).
    raise ImproperlyConfigured("INTEGRATIONS_ALLOW_PRIVATE_URLS is for development and tests; unset it in production.")

if INTEGRATIONS_METRICS_TOKEN and len(INTEGRATIONS_METRICS_TOKEN) < 32:  # noqa: F405
    raise ImproperlyConfigured("Set METRICS_TOKEN to a random string of at least 32 characters, or unset it.")

# Collected static files (`manage.py collectstatic`) with their content's hash in their names, served
# by WhiteNoise gzip- and Brotli-compressed, cached for a year (a new version has a new name).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Source maps are fetched by developer tools alone: compressing them at deploy time would take half of
# `collectstatic`'s time (they are served uncompressed).
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]

# Behind the TLS proxy: failed logins are counted by the visitor's address (X-Real-IP, from the proxy only).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "127.0.0.1,::1")
AXES_CLIENT_IP_CALLABLE = "dialogform_hooks.client_ip.client_ip"

SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
# A load balancer's health check may come over plain HTTP from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
