"""Services and selectors for an account's webhook, as the Integrations page manages it."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .models import Delivery, Webhook


def webhook_for_account(*, account: Any) -> Webhook | None:
    """The account's webhook: the Integrations page manages one URL per account."""
    return Webhook.objects.filter(account=account).order_by("id").first()


def webhook_save_url(*, account: Any, url: str) -> Webhook:
    """Point the account's webhook at `url` (creating it, with a new secret, if needed).

    Raises ValidationError, changing nothing, when the URL is not acceptable.
    """
    with transaction.atomic():
        webhook = webhook_for_account(account=account) or Webhook(account=account)
        webhook.url = url
        webhook.full_clean()
        webhook.save()
    return webhook


def webhook_before_delete(*, webhook: Webhook) -> int:
    """Cancel what was still on its way: the log keeps the deliveries, marked cancelled."""
    return Delivery.objects.filter(webhook=webhook, status=Delivery.Status.PENDING).update(
        status=Delivery.Status.CANCELLED, next_attempt_at=None, claimed_until=None, claim_token=None
    )
