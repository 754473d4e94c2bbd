"""The app's part of the details API, mounted by the host under its API prefix (e.g. `/api/v1/`)."""

from django.urls import path

from . import events

urlpatterns = [
    path("events/", events.EventList.as_view(), name="events"),
    path("events/<str:msg_id>/", events.EventDetail.as_view(), name="event"),
]
