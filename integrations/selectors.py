"""Read-only queries for the Integrations pages, always within one account."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet

from .models import Delivery, Webhook


def deliveries_for_webhook(*, webhook: Webhook, status: str | None = None) -> QuerySet[Delivery]:
    deliveries = (
        Delivery.objects.filter(webhook=webhook)
        .select_related("event")
        .annotate(attempts_logged=Count("attempts"))
        .order_by("-created_at", "-id")
    )
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries


def delivery_for_account(*, account: Any, delivery_id: int) -> Delivery | None:
    """The delivery, if it belongs to one of the account's webhooks; None otherwise (a 404, never a 403)."""
    return (
        Delivery.objects.filter(pk=delivery_id, webhook__account=account)
        .select_related("event", "webhook")
        .prefetch_related("attempts")
        .first()
    )
