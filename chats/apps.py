"""Chats: the host product (flows of prompts, chats that complete them, feedback on answers)."""

from django.apps import AppConfig


class ChatsConfig(AppConfig):
    name = "chats"
    default_auto_field = "django.db.models.BigAutoField"
