"""The app imports in a project that never heard of django-stubs (the monkeypatch of django_stubs_ext is for
type checkers and our own project, not something a host must call): every module, and the admin registered."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SETTINGS = """
SECRET_KEY = "no-stubs-test-only"
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
    "django.contrib.messages", "django.contrib.staticfiles", "rest_framework", "rest_framework_api_key",
    "django_rq", "django_htmx", "django_ratelimit", "tests.testhost", "integrations", "integrations.contrib.api",
    "integrations.contrib.prometheus",
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
ROOT_URLCONF = "no_stubs_urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
RQ_QUEUES = {"webhooks": {"URL": "redis://127.0.0.1:1/0"}}
INTEGRATIONS_ACCOUNT_MODEL = "testhost.Team"
INTEGRATIONS_ADAPTER = "tests.testhost.integrations.HelpDeskAdapter"
"""

URLS = """
from django.contrib import admin
from django.urls import include, path

urlpatterns = [path("admin/", admin.site.urls), path("integrations/", include("integrations.urls"))]
"""

PROBE = """
import pkgutil, importlib, django
django.setup()
import django_stubs_ext  # installed here (our dev tools), so make sure it was not applied
from django.contrib import admin
from django.contrib.admin import ModelAdmin
assert not hasattr(ModelAdmin, "__class_getitem__"), "the monkeypatch ran"
import integrations
for module in pkgutil.walk_packages(integrations.__path__, "integrations."):
    if ".migrations." not in module.name:
        importlib.import_module(module.name)
from django.urls import reverse
reverse("admin:integrations_webhook_changelist")
print("imported")
"""


@pytest.mark.once
def test_every_module_imports_and_the_admin_registers_without_the_stubs_monkeypatch(tmp_path: Path) -> None:
    (tmp_path / "no_stubs_settings.py").write_text(textwrap.dedent(SETTINGS))
    (tmp_path / "no_stubs_urls.py").write_text(textwrap.dedent(URLS))
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={"PYTHONPATH": f"{tmp_path}:{ROOT}", "DJANGO_SETTINGS_MODULE": "no_stubs_settings", "PATH": "/usr/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("imported")
