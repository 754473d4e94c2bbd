"""Installs the counters into the core's telemetry, and the part's system check."""

from django.apps import AppConfig


class PrometheusConfig(AppConfig):
    name = "integrations.contrib.prometheus"
    label = "integrations_prometheus"
    verbose_name = "Integrations: Prometheus metrics"

    def ready(self) -> None:
        from django.core import checks as django_checks

        from ... import telemetry
        from . import checks
        from .metrics import PrometheusCounts

        telemetry.count_with(PrometheusCounts())
        django_checks.register(checks.check_multiprocess_dir, "integrations")
