"""The operator's URL, for the host's root URLconf: `path("", include("integrations.operator_urls"))`.

/metrics is the Prometheus part's (`integrations.contrib.prometheus.urls`)."""

from django.urls import path

from . import operator_views

urlpatterns = [
    path("healthz", operator_views.healthz, name="healthz"),
]
