"""App configuration: wires receivers and system checks, never touches the database."""

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integrations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks, notices, receivers

        receivers.connect()
        notices.connect()
        checks.register()
