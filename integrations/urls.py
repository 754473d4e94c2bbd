"""URLs of the Integrations page."""

from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "integrations"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="integrations:webhook"), name="index"),
    path("webhook/", views.webhook_tab, name="webhook"),
    path("webhook/enable/", views.webhook_enable_view, name="webhook_enable"),
    path("webhook/rotate-secret/", views.webhook_rotate_secret_view, name="webhook_rotate_secret"),
]
