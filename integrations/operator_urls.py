"""The operator's URLs, for the host's root URLconf: `path("", include("integrations.operator_urls"))`."""

from django.urls import path

from . import operator_views

urlpatterns = [
    path("healthz", operator_views.healthz, name="healthz"),
    path("metrics", operator_views.metrics_view, name="metrics"),
]
