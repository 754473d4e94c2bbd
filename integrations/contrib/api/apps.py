"""The API part: its model (account API keys), the Integrations page's API keys tab, its system check."""

from __future__ import annotations

from django.apps import AppConfig


class APIConfig(AppConfig):
    name = "integrations.contrib.api"
    label = "integrations_api"
    verbose_name = "Integrations: details API"
    default_auto_field = "django.db.models.BigAutoField"

    def import_models(self) -> None:
        from .checks import missing_apps

        # Without its base apps, importing the key's model raises before any system check can run:
        # leave it out, and let integrations.E021 say what to add.
        if missing_apps():
            assert self.apps is not None  # set by the registry before it imports models
            self.models = self.apps.all_models[self.label]
            return
        super().import_models()

    def ready(self) -> None:
        from django.core import checks as django_checks

        from .checks import check_base_apps

        django_checks.register(check_base_apps, "integrations")
