"""Account API keys, as admins manage them on the Integrations page: created (shown once), listed, revoked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet
from django.views.decorators.debug import sensitive_variables

from ...adapter import get_adapter
from .models import AccountAPIKey

# Keys an account may hold at once (revoked ones not counted).
API_KEYS_MAX = 20


class APIKeyRefused(Exception):
    """A key cannot be created; the message says why, for people."""


def api_keys_for_account(*, account_id: int) -> QuerySet[AccountAPIKey]:
    return AccountAPIKey.objects.filter(account_id=account_id, revoked=False).order_by("-created")


@sensitive_variables("key")
def api_key_create(
    *, account_id: int, name: str, expires_at: datetime | None = None, created_by: Any = None
) -> tuple[AccountAPIKey, str]:
    """A new key for the account: the key object, and the key itself (shown once, never stored).

    `created_by`: the admin who made it (a user), recorded so that the keys of someone who left can be found.
    """
    if api_keys_for_account(account_id=account_id).count() >= API_KEYS_MAX:
        raise APIKeyRefused(f"An account can hold {API_KEYS_MAX} keys at once; revoke one you no longer use.")
    api_key, key = AccountAPIKey.objects.create_key(
        account_id=account_id,
        name=name,
        expiry_date=expires_at,
        created_by=created_by,
        created_by_name=created_by.get_username() if created_by is not None else "",
    )
    assert isinstance(api_key, AccountAPIKey)
    return api_key, key


@dataclass(frozen=True)
class APIKeyRow:
    api_key: AccountAPIKey
    # Its creator is no longer an admin of the account (or no longer a user): someone should check who uses it.
    creator_left: bool


def api_key_rows(*, account_id: int) -> list[APIKeyRow]:
    """The API keys tab's list: each live key, flagged when the admin who created it is no longer one."""
    keys = list(api_keys_for_account(account_id=account_id).select_related("created_by"))
    adapter = get_adapter()
    still_admin: dict[int, bool] = {}
    for api_key in keys:
        user = api_key.created_by
        if user is not None and user.pk not in still_admin:
            administered = adapter.accounts_for_admin(user)
            still_admin[user.pk] = user.is_active and any(account.pk == account_id for account in administered)
    return [
        APIKeyRow(
            api_key=api_key,
            # Keys made before creators were recorded have no name: nothing is known, nothing is claimed.
            creator_left=bool(api_key.created_by_name)
            and (api_key.created_by is None or not still_admin[api_key.created_by.pk]),
        )
        for api_key in keys
    ]


def api_key_of_account(*, account_id: int, prefix: str) -> AccountAPIKey | None:
    """One of the account's keys not revoked yet, by its prefix."""
    return api_keys_for_account(account_id=account_id).filter(prefix=prefix).first()


def api_key_revoke(*, account_id: int, prefix: str) -> bool:
    """Revoke the account's key with this prefix (for good); False when it has none such."""
    return bool(AccountAPIKey.objects.filter(account_id=account_id, prefix=prefix, revoked=False).update(revoked=True))
