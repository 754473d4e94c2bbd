from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from integrations.contrib.api import urls as integrations_api_urls
from integrations.contrib.api.fallbacks import api_not_found

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("integrations/", include("integrations.urls")),
    path("", include("integrations.operator_urls")),  # /healthz
    path("", include("integrations.contrib.prometheus.urls")),  # /metrics
    path("api/v1/", include((integrations_api_urls.urlpatterns, "api"))),
    re_path(r"^api/", api_not_found),
]
