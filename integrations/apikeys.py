"""Account API keys, as admins manage them on the Integrations page: created (shown once), listed, revoked."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.views.decorators.debug import sensitive_variables

from .models import AccountAPIKey

# Keys an account may hold at once (revoked ones not counted).
API_KEYS_MAX = 20


class APIKeyRefused(Exception):
    """A key cannot be created; the message says why, for people."""


def api_keys_for_account(*, account_id: int) -> QuerySet[AccountAPIKey]:
    return AccountAPIKey.objects.filter(account_id=account_id, revoked=False).order_by("-created")


@sensitive_variables("key")
def api_key_create(*, account_id: int, name: str, expires_at: datetime | None = None) -> tuple[AccountAPIKey, str]:
    """A new key for the account: the key object, and the key itself (shown once, never stored)."""
    if api_keys_for_account(account_id=account_id).count() >= API_KEYS_MAX:
        raise APIKeyRefused(f"An account can hold {API_KEYS_MAX} keys at once; revoke one you no longer use.")
    api_key, key = AccountAPIKey.objects.create_key(account_id=account_id, name=name, expiry_date=expires_at)
    assert isinstance(api_key, AccountAPIKey)
    return api_key, key


def api_key_revoke(*, account_id: int, prefix: str) -> bool:
    """Revoke the account's key with this prefix (for good); False when it has none such."""
    return bool(AccountAPIKey.objects.filter(account_id=account_id, prefix=prefix, revoked=False).update(revoked=True))
