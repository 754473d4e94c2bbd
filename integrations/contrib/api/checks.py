"""The API part's system check: the apps it is built on are installed."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core import checks

# What the API part is built on, in INSTALLED_APPS.
REQUIRED_APPS = ("rest_framework", "rest_framework_api_key")


def missing_apps() -> list[str]:
    return [name for name in REQUIRED_APPS if not apps.is_installed(name)]


def check_base_apps(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    missing = missing_apps()
    if not missing:
        return []
    return [
        checks.Error(
            f"integrations.contrib.api needs {', '.join(repr(name) for name in missing)} in INSTALLED_APPS.",
            hint="Add them before 'integrations.contrib.api' (the wheel's api extra installs them); see "
            "docs/install.md, 'The details API'.",
            id="integrations.E021",
        )
    ]
