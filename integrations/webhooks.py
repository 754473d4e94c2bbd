"""Services and selectors for an account's webhook endpoints, as the Integrations page and the API manage them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from . import telemetry
from .conf import conf
from .health import EndpointHealth, webhook_enable, webhook_new_url
from .models import Delivery, Webhook, new_signing_secret
from .parameters import whole_number
from .queue import webhooks_wake_on_commit
from .sending.signing import signing_secrets


class EndpointsFull(Exception):
    """The account has as many endpoints as it may (ENDPOINTS_MAX); the message says so."""


def webhooks_for_account(*, account: Any) -> QuerySet[Webhook]:
    return Webhook.objects.filter(account=account).order_by("id")


def webhook_of_account(*, account: Any, webhook_id: object) -> Webhook | None:
    """The account's endpoint with this id; None for another account's, or none (a 404, never a 403)."""
    number = whole_number(webhook_id)
    if number is None:
        return None
    return Webhook.objects.filter(account=account, pk=number).first()


# The fields an admin sets, on the page or through the API; everything else is the sender's.
EDITABLE_FIELDS = ("url", "description", "event_types", "is_active", "max_rate", "custom_headers")


def webhook_create(*, account: Any, url: str, **fields: Any) -> Webhook:
    """A new endpoint with its own secret; EndpointsFull past ENDPOINTS_MAX, ValidationError on bad input.

    Either way nothing is saved.
    """
    with transaction.atomic():
        # Hold the account's row so that two requests at once cannot both take the last place.
        type(account)._default_manager.select_for_update().filter(pk=account.pk).exists()
        if Webhook.objects.filter(account=account).count() >= conf.ENDPOINTS_MAX:
            raise EndpointsFull(
                f"An account can have at most {conf.ENDPOINTS_MAX} endpoints. Delete one you no longer use, "
                "or subscribe an existing endpoint to more event types."
            )
        return webhook_update(webhook=Webhook(account=account), url=url, **fields)


def webhook_update(*, webhook: Webhook, **changes: Any) -> Webhook:
    """Save the endpoint (new or not) with `changes`: the page's and the API's one way of doing it.

    Raises ValidationError, changing nothing, when a value is not acceptable (the SSRF guard included).
    Pausing keeps what is on its way waiting; resuming sends it, and re-enables one disabled for failing.
    """
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not editable: {sorted(unknown)}")
    old_url = webhook.url
    resuming = changes.get("is_active") is True and webhook.pk is not None and not webhook.is_active
    reenabling = resuming and webhook.disabled_at is not None
    pausing = changes.get("is_active") is False and webhook.pk is not None and webhook.is_active
    if isinstance(changes.get("event_types"), list):
        # Each type once, in the order given: a subscription is a set, and the outbox reads it on every event.
        changes["event_types"] = list(dict.fromkeys(changes["event_types"]))
    for name, value in changes.items():
        setattr(webhook, name, value)
    if isinstance(webhook.url, str):
        webhook.url = webhook.url.strip()
    webhook.full_clean(exclude=["account"])  # before anything is written: refused means unchanged
    creating = webhook.pk is None
    with transaction.atomic():
        if reenabling:
            webhook_enable(webhook=webhook, resend_failed=False)  # its health starts afresh
        # Only what the admin changed: the sender updates the health fields meanwhile, and a page
        # loaded a minute ago must not write back the counts it read then.
        webhook.save(update_fields=None if creating else [*changes, "updated_at"])
        if resuming:
            webhooks_wake_on_commit(webhook_ids=[webhook.pk])
        moved = not creating and webhook.url != old_url
        if moved and (EndpointHealth.of(webhook).troubled or webhook.failing_alert_at is not None):
            webhook_new_url(webhook=webhook)
    if pausing:
        telemetry.endpoint_state_changed(webhook=webhook, state="paused", reason="Paused by an admin.")
    elif resuming and not reenabling:
        telemetry.endpoint_state_changed(webhook=webhook, state="active", reason="Resumed by an admin.")
    return webhook


def webhooks_receiving(*, account: Any, event_type: str) -> list[Webhook]:
    """The account's endpoints that would be sent `event_type` now: on, and subscribed to it (for a host's
    page that says what a change will send)."""
    return [
        webhook
        for webhook in webhooks_for_account(account=account).filter(is_active=True)
        if webhook.receives(event_type)
    ]


def webhook_pending_count(*, webhook: Webhook) -> int:
    return Delivery.objects.filter(webhook=webhook, status=Delivery.Status.PENDING).count()


def webhook_before_delete(*, webhook: Webhook) -> int:
    """Cancel what was still on its way: the log keeps the deliveries, marked cancelled."""
    return Delivery.objects.filter(webhook=webhook, status=Delivery.Status.PENDING).finish(Delivery.Status.CANCELLED)


# How much of a secret the pages show to tell secrets apart: "whsec_" and 6 characters (36 of its 256 bits).
SECRET_PREFIX_SHOWN = 12


@dataclass(frozen=True)
class RetiredSecret:
    secret: str
    expires_at: datetime

    @property
    def prefix(self) -> str:
        """What the pages call it: its first characters, as the receiver's configuration shows them."""
        return self.secret[:SECRET_PREFIX_SHOWN]


@dataclass(frozen=True)
class Rotation:
    """What a rotation did: the secret it replaced (`replaced`: None when that stopped signing at once) and
    the older ones it stopped, since at most RETIRED_SECRETS_MAX sign."""

    replaced_prefix: str
    replaced: RetiredSecret | None
    dropped: list[RetiredSecret]


def _keep_retired(webhook: Webhook, retired: list[RetiredSecret]) -> None:
    """Store the rotated-out secrets that still sign (in memory; the caller saves)."""
    webhook.retired_secrets = [
        {"secret": entry.secret, "expires_at": entry.expires_at.isoformat()} for entry in retired
    ]


def webhook_retired_secrets(*, webhook: Webhook, now: datetime | None = None) -> list[RetiredSecret]:
    """The rotated-out secrets that still sign, soonest to expire first."""
    now = now or timezone.now()
    retired = [
        RetiredSecret(secret=entry["secret"], expires_at=datetime.fromisoformat(entry["expires_at"]))
        for entry in webhook.retired_secrets
    ]
    return sorted((entry for entry in retired if entry.expires_at > now), key=lambda entry: entry.expires_at)


@sensitive_variables("retired")
def webhook_rotate_secret(*, webhook: Webhook, overlap_hours: float | None = None) -> Rotation:
    """A new signing secret; the rotated-out one keeps signing too for `overlap_hours` (0: stops now).

    The default overlap is SECRET_OVERLAP_HOURS, the longest SECRET_OVERLAP_MAX_HOURS. At most
    RETIRED_SECRETS_MAX sign beside the current one: rotating past that drops the one that
    expires first, at once (usually none).
    """
    hours = conf.SECRET_OVERLAP_HOURS if overlap_hours is None else overlap_hours
    if not 0 <= hours <= conf.SECRET_OVERLAP_MAX_HOURS:
        raise ValueError(f"The overlap is 0 to {conf.SECRET_OVERLAP_MAX_HOURS:g} hours.")
    now = timezone.now()
    replaced = RetiredSecret(secret=webhook.secret, expires_at=now + timedelta(hours=hours)) if hours else None
    # The one just replaced is kept before any other: its receiver may not have switched yet.
    retired = [*webhook_retired_secrets(webhook=webhook, now=now), *([replaced] if replaced else [])]
    dropped = retired[: max(0, len(retired) - conf.RETIRED_SECRETS_MAX)]
    _keep_retired(webhook, retired[len(dropped) :])
    replaced_prefix = webhook.secret[:SECRET_PREFIX_SHOWN]
    webhook.secret = new_signing_secret()
    webhook.save(update_fields=["secret", "retired_secrets", "updated_at"])
    kept = replaced is not None and replaced not in dropped
    return Rotation(
        replaced_prefix=replaced_prefix,
        replaced=replaced if kept else None,
        dropped=[entry for entry in dropped if entry is not replaced],
    )


def webhook_retired_secret(*, webhook: Webhook, prefix: str) -> RetiredSecret | None:
    """The rotated-out secret still signing that the pages call `prefix` (RetiredSecret.prefix), if any."""
    return next((entry for entry in webhook_retired_secrets(webhook=webhook) if entry.prefix == prefix), None)


@sensitive_variables("kept")
def webhook_end_retired_secret(*, webhook: Webhook, ended: RetiredSecret) -> None:
    """Stop a rotated-out secret signing now (it leaked, say)."""
    kept = [entry for entry in webhook_retired_secrets(webhook=webhook) if entry.secret != ended.secret]
    _keep_retired(webhook, kept)
    webhook.save(update_fields=["retired_secrets", "updated_at"])


def webhook_signing_secrets(*, webhook: Webhook, now: datetime | None = None) -> list[str]:
    """The secrets every request is signed with: the current one, and the rotated-out ones while they last."""
    return signing_secrets(webhook=webhook, now=now or timezone.now())
