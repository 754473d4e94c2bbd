"""Services and selectors for an account's webhook, as the Integrations page manages it."""

from __future__ import annotations

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


@sensitive_variables("secret")
def webhook_rotate_secret(*, webhook: Webhook) -> Webhook:
    """A new signing secret; the previous one keeps signing too until the overlap ends."""
    webhook.previous_secret = webhook.secret
    webhook.previous_secret_expires_at = timezone.now() + timedelta(hours=conf.SECRET_OVERLAP_HOURS)
    webhook.secret = new_signing_secret()
    webhook.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return webhook


def webhook_signing_secrets(*, webhook: Webhook, now: datetime | None = None) -> list[str]:
    """The secrets every request is signed with: the current one, and the previous one while it lasts."""
    secrets = [webhook.secret]
    expires = webhook.previous_secret_expires_at
    if webhook.previous_secret and expires is not None and expires > (now or timezone.now()):
        secrets.append(webhook.previous_secret)
    return secrets
