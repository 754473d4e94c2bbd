"""URL configuration of DialogForm Hooks."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, re_path
from django.views import defaults
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from accounts import views as account_views
from chats import api_urls as chats_api_urls
from integrations.contrib.api import urls as integrations_api_urls
from integrations.contrib.api.fallbacks import api_not_found, api_server_error

from . import queue_dashboard

# The details API: the app's endpoints (events, webhooks) and the product's (flows, chats), one namespace.
api_v1 = [*integrations_api_urls.urlpatterns, *chats_api_urls.urlpatterns]

urlpatterns = [
    path("api/v1/", include((api_v1, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^api/", api_not_found),
    path("", include("integrations.operator_urls")),  # /healthz
    path("", include("integrations.contrib.prometheus.urls")),  # /metrics
    path("", account_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("integrations/", include("integrations.urls")),
    path("", include("chats.urls")),
    path("admin/django-rq/", include((queue_dashboard.urlpatterns(), "django_rq"))),
    path("admin/", admin.site.urls),
]


def server_error(request: HttpRequest) -> HttpResponse:
    """An unexpected error: JSON under /api/, the plain error page elsewhere."""
    return api_server_error(request) or defaults.server_error(request)


handler500 = server_error
