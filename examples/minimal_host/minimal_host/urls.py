from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from integrations.api import urls as integrations_api_urls
from integrations.api.base import api_not_found

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("integrations/", include("integrations.urls")),
    path("", include("integrations.operator_urls")),  # /healthz and /metrics
    path("api/v1/", include((integrations_api_urls.urlpatterns, "api"))),
    re_path(r"^api/", api_not_found),
]
