"""Read-only queries for the Integrations pages, always within one account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from .models import Delivery, DeliveryAttempt, Webhook
from .stats import Summary, webhook_summary


def _last_attempt(field: str) -> Subquery:
    """A delivery's last attempt's `field`, for each row of a list (the attempts' own index reads it)."""
    attempts = DeliveryAttempt.objects.filter(delivery=OuterRef("pk")).order_by("-attempted_at", "-id")
    return Subquery(attempts.values(field)[:1])


# The delivery log's filters, in the words its rows use (Delivery.progress): a pending delivery is "pending"
# until its first attempt, "retrying" after.
LOG_FILTERS = [
    ("pending", "Pending"),
    ("retrying", "Retrying"),
    ("succeeded", "Succeeded"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]


def deliveries_for_account(*, account: Any, webhook: Webhook | None = None, status: str = "") -> QuerySet[Delivery]:
    """The account's deliveries (or one of its endpoint's), newest first, each with its attempts counted and
    its last attempt's error: counted for the rows read, so a page costs its rows, not the history.
    """
    attempts = DeliveryAttempt.objects.filter(delivery=OuterRef("pk")).order_by()
    # One endpoint's deliveries are read from its own index: it is the account's (the caller looked it up so).
    deliveries = Delivery.objects.filter(**({"webhook": webhook} if webhook is not None else {"account": account}))
    if status in {"pending", "retrying"}:
        # Within the status's own index range: the pending deliveries are the few on their way, not the history.
        deliveries = deliveries.filter(status=Delivery.Status.PENDING)
        deliveries = (
            deliveries.filter(attempt_count__gt=0) if status == "retrying" else deliveries.filter(attempt_count=0)
        )
    elif status:
        deliveries = deliveries.filter(status=status)
    return (
        deliveries.select_related("event", "webhook")
        .annotate(
            attempts_logged=Coalesce(Subquery(attempts.values("delivery").annotate(n=Count("*")).values("n")), 0),
            last_error=_last_attempt("error"),
            # Where it was sent: named once its endpoint is deleted (the attempts keep the URL).
            last_url=_last_attempt("url"),
        )
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class LogPage:
    """One page of a log read newest first, and where the pages beside it start (None: there is none)."""

    deliveries: list[Delivery]
    newer: int | None  # the first row's id, for `?newer=`
    older: int | None  # the last row's id, for `?older=`


def log_page(deliveries: QuerySet[Delivery], *, older: int | None, newer: int | None, size: int) -> LogPage:
    """The page just older or newer than the delivery `older` or `newer` (keyset pages: no count, no offset).

    A cursor that is not in the set (another account's, pruned) shows the newest page.
    """
    cursor = older if older is not None else newer
    anchor = None if cursor is None else deliveries.filter(pk=cursor).values_list("created_at", flat=True).first()
    if anchor is None:
        rows = list(deliveries[: size + 1])
        return _page(rows[:size], has_newer=False, has_older=len(rows) > size)
    if older is not None:
        # created_at bounds the index scan; the id breaks ties between deliveries made in the same instant.
        before = deliveries.filter(created_at__lte=anchor).filter(Q(created_at__lt=anchor) | Q(id__lt=cursor))
        rows = list(before[: size + 1])
        return _page(rows[:size], has_newer=True, has_older=len(rows) > size)
    after = deliveries.filter(created_at__gte=anchor).filter(Q(created_at__gt=anchor) | Q(id__gt=cursor))
    rows = list(after.order_by("created_at", "id")[: size + 1])
    if len(rows) <= size:  # this reaches the newest: show the newest page, full
        return log_page(deliveries, older=None, newer=None, size=size)
    return _page(rows[:size][::-1], has_newer=True, has_older=True)


def _page(rows: list[Delivery], *, has_newer: bool, has_older: bool) -> LogPage:
    return LogPage(
        deliveries=rows,
        newer=rows[0].pk if rows and has_newer else None,
        older=rows[-1].pk if rows and has_older else None,
    )


def delivery_for_account(*, account: Any, delivery_id: int) -> Delivery | None:
    """The delivery, if it belongs to one of the account's webhooks; None otherwise (a 404, never a 403)."""
    return (
        Delivery.objects.filter(pk=delivery_id, account=account)
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


# How many of the URLs the waiting deliveries last failed at the page names.
FAILED_AT_SHOWN = 3


@dataclass(frozen=True)
class Waiting:
    """What still waits for an endpoint: deliveries retried on their schedule, and those not tried yet (held
    by the breaker or a pause, or simply next in line); with the URLs the retried ones last failed at."""

    retrying: int
    untried: int
    failed_at: list[tuple[str, int]]

    @property
    def total(self) -> int:
        return self.retrying + self.untried


def waiting_for(*, webhook: Webhook) -> Waiting:
    """Counts of the endpoint's pending deliveries (its retries and backlog, not its history)."""
    pending = Delivery.objects.filter(webhook=webhook, status=Delivery.Status.PENDING)
    counts = pending.aggregate(
        retrying=Count("pk", filter=Q(attempt_count__gt=0)), untried=Count("pk", filter=Q(attempt_count=0))
    )
    failed_at: list[tuple[str, int]] = []
    if counts["retrying"]:
        failed_at = [
            (row["url"] or webhook.url, row["count"])
            for row in pending.filter(attempt_count__gt=0)
            .annotate(url=_last_attempt("url"))
            .values("url")
            .annotate(count=Count("pk"))
            .order_by("-count", "url")[:FAILED_AT_SHOWN]
        ]
    return Waiting(retrying=counts["retrying"], untried=counts["untried"], failed_at=failed_at)
