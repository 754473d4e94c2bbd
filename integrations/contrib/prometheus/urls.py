"""/metrics, for the host's root URLconf: `path("", include("integrations.contrib.prometheus.urls"))`."""

from django.urls import path

from . import views

urlpatterns = [
    path("metrics", views.metrics_view, name="metrics"),
]
