"""Django admin for webhooks and their delivery log."""

from __future__ import annotations

from django.contrib import admin

from .models import Delivery, DeliveryAttempt, Event, Webhook


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin[Webhook]):
    list_display = ["url", "account", "is_active", "created_at"]
    list_filter = ["is_active"]
    # Signing secrets are shown to the account's admins on the Integrations page, nowhere else.
    exclude = ["secret", "previous_secret"]
    readonly_fields = ["previous_secret_expires_at", "created_at", "updated_at"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin[Event]):
    list_display = ["id", "type", "account", "created_at"]
    list_filter = ["type"]
    readonly_fields = ["id", "account", "type", "body", "created_at"]


class DeliveryAttemptInline(admin.TabularInline[DeliveryAttempt, Delivery]):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["attempted_at", "succeeded", "status_code", "duration_ms", "response_body", "error"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin[Delivery]):
    list_display = ["id", "event", "webhook", "status", "attempt_count", "next_attempt_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    inlines = [DeliveryAttemptInline]
