"""URLs of the admin panel's chat pages."""

from django.urls import path

from . import views

app_name = "chats"

urlpatterns = [
    path("flows/<int:flow_id>/", views.flow_page, name="flow"),
    path("chats/<int:chat_id>/", views.chat_history, name="chat"),
    path("chats/<int:chat_id>/responses/<int:response_id>/feedback/", views.feedback_save_view, name="feedback"),
    path("chats/<int:chat_id>/delete/", views.chat_delete_view, name="chat_delete"),
    path("c/<str:token>/", views.participant_chat, name="participant"),
]
