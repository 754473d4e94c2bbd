"""Services and selectors for an account's webhook, as the Integrations page manages it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from .conf import conf
from .models import Delivery, Webhook, new_signing_secret


def webhook_for_account(*, account: Any) -> Webhook | None:
    """The account's webhook: the Integrations page manages one URL per account."""
    return Webhook.objects.filter(account=account).order_by("id").first()


def webhook_save_url(*, account: Any, url: str) -> Webhook:
    """Point the account's webhook at `url` (creating it, with a new secret, if needed).

    Raises ValidationError, changing nothing, when the URL is not acceptable.
    """
    with transaction.atomic():
        return webhook_set_url(webhook=webhook_for_account(account=account) or Webhook(account=account), url=url)


def webhook_set_url(*, webhook: Webhook, url: str) -> Webhook:
    """Save the webhook (new or not) with `url`: the page's and the API's one way of doing it.

    Raises ValidationError, changing nothing, when the URL is not acceptable (the SSRF guard included).
    """
    webhook.url = url
    webhook.full_clean()
    webhook.save()
    return webhook


def webhook_before_delete(*, webhook: Webhook) -> int:
    """Cancel what was still on its way: the log keeps the deliveries, marked cancelled."""
    return Delivery.objects.filter(webhook=webhook, status=Delivery.Status.PENDING).finish(Delivery.Status.CANCELLED)


@dataclass(frozen=True)
class RetiredSecret:
    secret: str
    expires_at: datetime


def webhook_retired_secrets(*, webhook: Webhook, now: datetime | None = None) -> list[RetiredSecret]:
    """The rotated-out secrets that still sign, soonest to expire first."""
    now = now or timezone.now()
    retired = [
        RetiredSecret(secret=entry["secret"], expires_at=datetime.fromisoformat(entry["expires_at"]))
        for entry in webhook.retired_secrets
    ]
    return sorted((entry for entry in retired if entry.expires_at > now), key=lambda entry: entry.expires_at)


@sensitive_variables("retired")
def webhook_rotate_secret(*, webhook: Webhook) -> list[RetiredSecret]:
    """A new signing secret; each rotated-out one keeps signing too, until its own overlap ends.

    At most RETIRED_SECRETS_MAX sign beside the current one: rotating past that drops the one
    that expires first, at once. Returns the secrets dropped that way (usually none).
    """
    now = timezone.now()
    retired = [
        *webhook_retired_secrets(webhook=webhook, now=now),
        RetiredSecret(secret=webhook.secret, expires_at=now + timedelta(hours=conf.SECRET_OVERLAP_HOURS)),
    ]
    dropped = retired[: max(0, len(retired) - conf.RETIRED_SECRETS_MAX)]
    webhook.retired_secrets = [
        {"secret": entry.secret, "expires_at": entry.expires_at.isoformat()} for entry in retired[len(dropped) :]
    ]
    webhook.secret = new_signing_secret()
    webhook.save(update_fields=["secret", "retired_secrets", "updated_at"])
    return dropped


@sensitive_variables("secrets")
def webhook_signing_secrets(*, webhook: Webhook, now: datetime | None = None) -> list[str]:
    """The secrets every request is signed with: the current one, and the rotated-out ones while they last."""
    return [webhook.secret, *(entry.secret for entry in webhook_retired_secrets(webhook=webhook, now=now))]
