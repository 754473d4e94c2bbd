"""URLs of the Integrations page."""

from django.urls import path

from . import views

app_name = "integrations"

urlpatterns = [
    path("", views.integrations_index, name="index"),
    path("webhook/", views.webhook_tab, name="webhook"),
    path("webhook/enable/", views.webhook_enable_view, name="webhook_enable"),
    path("webhook/rotate-secret/", views.webhook_rotate_secret_view, name="webhook_rotate_secret"),
    path("webhook/send-test/", views.webhook_send_test_view, name="webhook_send_test"),
    path("webhook/deliveries/", views.delivery_log, name="deliveries"),
    path("webhook/deliveries/<int:delivery_id>/", views.delivery_detail, name="delivery"),
    path("webhook/deliveries/<int:delivery_id>/resend/", views.delivery_resend_view, name="delivery_resend"),
    path("api-keys/", views.api_keys_tab, name="api_keys"),
    path("api-keys/<str:prefix>/revoke/", views.api_key_revoke_view, name="api_key_revoke"),
]
