"""The app's part of the details API, for the host to mount where it likes (e.g. `/api/v1/`)."""

from django.urls import URLPattern, path

from .checks import missing_apps

urlpatterns: list[URLPattern] = []
if not missing_apps():  # else integrations.E021 says what to add, and the API is not served
    from . import events, ids, webhooks  # noqa: F401 -- ids registers the <object_id:…> converter

    urlpatterns += [
        path("events/", events.EventList.as_view(), name="events"),
        path("events/<str:msg_id>/", events.EventDetail.as_view(), name="event"),
        path("webhooks/", webhooks.WebhookList.as_view(), name="webhooks"),
        path("webhooks/<object_id:webhook_id>/", webhooks.WebhookDetail.as_view(), name="webhook"),
        path(
            "webhooks/<object_id:webhook_id>/rotate-secret/",
            webhooks.WebhookRotateSecret.as_view(),
            name="webhook_rotate",
        ),
        path("webhooks/<object_id:webhook_id>/test/", webhooks.WebhookSendTest.as_view(), name="webhook_test"),
        path("webhooks/<object_id:webhook_id>/example/", webhooks.WebhookSendExample.as_view(), name="webhook_example"),
        path("webhooks/<object_id:webhook_id>/recover/", webhooks.WebhookRecover.as_view(), name="webhook_recover"),
        path("deliveries/<object_id:delivery_id>/resend/", webhooks.DeliveryResend.as_view(), name="delivery_resend"),
    ]
