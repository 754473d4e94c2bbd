"""DialogForm's part of the details API: flows, chats and responses."""

from django.urls import path

from integrations.contrib.api import ids  # noqa: F401 -- registers the <object_id:…> converter

from . import api

urlpatterns = [
    path("flows/", api.FlowList.as_view(), name="flows"),
    path("flows/<object_id:flow_id>/", api.FlowDetail.as_view(), name="flow"),
    path("flows/<object_id:flow_id>/chats/", api.ChatList.as_view(), name="chats"),
    # An identifier may hold "/" (whatever a participant's share link said), sent as "/" or "%2F"; so the
    # longer route comes first.
    path(
        "flows/<object_id:flow_id>/chats/<path:identifier>/responses/<str:prompt_name>/",
        api.ResponseDetail.as_view(),
        name="response",
    ),
    path("flows/<object_id:flow_id>/chats/<path:identifier>/", api.ChatDetail.as_view(), name="chat"),
]
