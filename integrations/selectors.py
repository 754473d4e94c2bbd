"""Read-only queries for the Integrations pages, always within one account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from .models import Delivery, DeliveryAttempt, Webhook
from .stats import Summary, webhook_summary


def deliveries_for_account(*, account: Any, webhook: Webhook | None = None, status: str = "") -> QuerySet[Delivery]:
    """The account's deliveries, newest first, with their attempts counted and the last attempt's error."""
    last_attempt = DeliveryAttempt.objects.filter(delivery=OuterRef("pk")).order_by("-attempted_at", "-id")
    deliveries = (
        Delivery.objects.filter(event__account=account)
        .select_related("event", "webhook")
        .annotate(attempts_logged=Count("attempts"), last_error=Subquery(last_attempt.values("error")[:1]))
        .order_by("-created_at", "-id")
    )
    if webhook is not None:
        deliveries = deliveries.filter(webhook=webhook)
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries


def delivery_for_account(*, account: Any, delivery_id: int) -> Delivery | None:
    """The delivery, if it belongs to one of the account's webhooks; None otherwise (a 404, never a 403)."""
    return (
        Delivery.objects.filter(pk=delivery_id, event__account=account)
        .select_related("event", "webhook")
        .prefetch_related("attempts")
        .first()
    )


@dataclass(frozen=True)
class EndpointRow:
    webhook: Webhook
    summary: Summary


def endpoint_rows(*, account: Any) -> list[EndpointRow]:
    """The Webhook tab's list: each endpoint with its last 24 hours."""
    return [
        EndpointRow(webhook=webhook, summary=webhook_summary(webhook=webhook))
        for webhook in Webhook.objects.filter(account=account).order_by("id")
    ]


def troubled_endpoints(*, account: Any) -> QuerySet[Webhook]:
    """Endpoints the admins were told about: failing now, or disabled for failing."""
    return Webhook.objects.filter(account=account).filter(
        Q(is_active=False, disabled_at__isnull=False) | Q(failing_alert_at__isnull=False)
    )
