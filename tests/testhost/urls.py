"""The test host's URLs: the app's pages, operator URLs and optional parts, where docs/install.md puts them."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView

from integrations.contrib.api import urls as integrations_api_urls
from integrations.contrib.api.fallbacks import api_not_found

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("integrations/", include("integrations.urls")),
    path("", include("integrations.operator_urls")),
    path("", include("integrations.contrib.prometheus.urls")),
    path("api/v1/", include((integrations_api_urls.urlpatterns, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    re_path(r"^api/", api_not_found),
    path("admin/", admin.site.urls),
]
