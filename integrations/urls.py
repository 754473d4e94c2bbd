"""URLs of the Integrations page; with the API part installed, its API keys tab too."""

from django.apps import apps
from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("", views.integrations_index, name="index"),
    path("account/", views.account_switch, name="account_switch"),
    path("webhook/", views.webhook_tab, name="webhook"),
    path("webhook/<int:webhook_id>/", views.endpoint_detail, name="endpoint"),
    path("webhook/<int:webhook_id>/delete/", views.endpoint_delete, name="endpoint_delete"),
    path("webhook/<int:webhook_id>/enable/", views.endpoint_enable, name="endpoint_enable"),
    path("webhook/<int:webhook_id>/rotate-secret/", views.endpoint_rotate_secret, name="endpoint_rotate_secret"),
    path(
        "webhook/<int:webhook_id>/previous-secrets/<path:secret_prefix>/end/",
        views.endpoint_end_secret,
        name="endpoint_end_secret",
    ),
    path("webhook/<int:webhook_id>/send-test/", views.endpoint_send_test, name="endpoint_send_test"),
    path("webhook/<int:webhook_id>/send-example/", views.endpoint_send_example, name="endpoint_send_example"),
    path("webhook/<int:webhook_id>/recover/", views.endpoint_recover, name="endpoint_recover"),
    path("webhook/<int:webhook_id>/retry-now/", views.endpoint_retry_now, name="endpoint_retry_now"),
    path("webhook/deliveries/", views.delivery_log, name="deliveries"),
    path("webhook/deliveries/<int:delivery_id>/", views.delivery_detail, name="delivery"),
    path("webhook/deliveries/<int:delivery_id>/resend/", views.delivery_resend_view, name="delivery_resend"),
    path("webhook/events/", views.event_catalog, name="events"),
    path("webhook/events/send-example/", views.event_send_example, name="event_send_example"),
]

if apps.is_installed("integrations.contrib.api"):
    from .contrib.api.checks import missing_apps

    if not missing_apps():  # else integrations.E021 says what is missing
        from .contrib.api.page_urls import urlpatterns as api_key_urls

        urlpatterns += api_key_urls
