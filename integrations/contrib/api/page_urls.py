"""The API keys tab's URLs: the Integrations page's (integrations.urls) adds them when this part is installed."""

from django.urls import path

from . import pages

urlpatterns = [
    path("api-keys/", pages.api_keys_tab, name="api_keys"),
    path("api-keys/<str:prefix>/revoke/", pages.api_key_revoke_view, name="api_key_revoke"),
]
