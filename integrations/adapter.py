"""The host boundary: everything the app knows about the product it is installed in, in one adapter.

The app never imports the host's modules. It asks the adapter named by `INTEGRATIONS_ADAPTER`
(required) which types of notification the host sends and how each is built from a change of its
models (`event_types`, see integrations.catalog), whose deletion takes an account's webhooks with
it, and who may manage an account's webhooks. A host subclasses `BaseAdapter`, declares its event
types and says who its admins are (see docs/install.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Protocol, runtime_checkable

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.http import HttpRequest
from django.utils.module_loading import import_string

from .catalog import EventType, OnDelete, OnSave, test_type
from .conf import conf

User = AbstractBaseUser | AnonymousUser


@runtime_checkable
class IntegrationsAdapter(Protocol):
    """The methods the app calls; `BaseAdapter` implements the generic ones."""

    # The notifications the host sends, in the order the pages list them.
    event_types: Sequence[EventType]
    # One sentence on how a receiver tells an example ("Send example") from a real notification.
    example_note: str
    # The two fields of the bodies' `data` that say what a notification is about, a whole number and a
    # text (say, a project's id and a ticket's reference): the events API lists them and filters on them. Optional.
    subject_fields: tuple[str, str] | None

    def get_account_model(self) -> type[models.Model]: ...
    def is_account_deletion(self, origin: object) -> bool: ...
    def account_admin_emails(self, account_id: int) -> list[str]: ...
    def account_for_admin(self, user: User) -> models.Model | None: ...
    def accounts_for_admin(self, user: User) -> list[models.Model]: ...
    def account_for_request(self, request: HttpRequest) -> models.Model | None: ...


# What the app asks of an adapter (the protocol's members: `manage.py check` looks for each).
ADAPTER_MEMBERS = (
    "event_types",
    "example_note",
    "subject_fields",
    "get_account_model",
    "is_account_deletion",
    "account_admin_emails",
    "account_for_admin",
    "accounts_for_admin",
    "account_for_request",
)


class BaseAdapter:
    """What any host shares: the account model from settings, deletions started from an account, the
    account switcher. A subclass declares `event_types` and implements `account_for_admin` (or
    `accounts_for_admin`), and `account_admin_emails` to have the admins told when an endpoint fails.
    """

    event_types: Sequence[EventType] = ()
    example_note = ""
    subject_fields: tuple[str, str] | None = None

    def get_account_model(self) -> type[models.Model]:
        return apps.get_model(conf.ACCOUNT_MODEL)

    def is_account_deletion(self, origin: object) -> bool:
        """Whether a delete started from an account (its webhooks go with it, so nothing is sent)."""
        account = self.get_account_model()
        if isinstance(origin, models.QuerySet):
            return issubclass(origin.model, account)
        return isinstance(origin, account)

    def account_admin_emails(self, account_id: int) -> list[str]:
        return []

    def account_for_admin(self, user: User) -> models.Model | None:
        return None

    def accounts_for_admin(self, user: User) -> list[models.Model]:
        """Every account the user administers, in the order the switcher lists them."""
        account = self.account_for_admin(user)
        return [] if account is None else [account]

    def account_for_request(self, request: HttpRequest) -> models.Model | None:
        """The account the pages show: the one chosen in the switcher (kept in the session), or the first."""
        accounts = admin_accounts(request, adapter=self)
        chosen = str(request.session.get(conf.ACCOUNT_SESSION_KEY, ""))
        return next((account for account in accounts if str(account.pk) == chosen), accounts[0] if accounts else None)


def admin_accounts(request: HttpRequest, adapter: IntegrationsAdapter | None = None) -> list[models.Model]:
    """The adapter's accounts_for_admin for this request's user, asked once per request."""
    if not hasattr(request, "_integrations_accounts"):
        found = (adapter or get_adapter()).accounts_for_admin(request.user)
        request._integrations_accounts = found  # type: ignore[attr-defined]
    accounts: list[models.Model] = request._integrations_accounts  # type: ignore[attr-defined]
    return accounts


@cache
def _adapter(path: str) -> IntegrationsAdapter:
    adapter: IntegrationsAdapter = import_string(path)()
    return adapter


def get_adapter() -> IntegrationsAdapter:
    """The adapter named by INTEGRATIONS_ADAPTER (one instance per path)."""
    return _adapter(conf.ADAPTER)


# --- the host's event catalog, as its adapter declares it ---------------------------------


def subscribable() -> tuple[EventType, ...]:
    """The host's types, in the order it declares them: what an endpoint subscribes to."""
    return tuple(get_adapter().event_types)


def subscribable_names() -> tuple[str, ...]:
    return tuple(event_type.name for event_type in subscribable())


def every_type() -> tuple[EventType, ...]:
    """The host's types and the app's `test`."""
    return (*subscribable(), test_type())


def event_type(name: str) -> EventType:
    """The type of this name; KeyError for a name no one declared."""
    for candidate in every_type():
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def triggered_by(model: type[models.Model], kind: type[OnSave] | type[OnDelete]) -> list[EventType]:
    """The types a save (or a delete) of this model can send."""
    label = model._meta.label_lower
    return [
        candidate
        for candidate in subscribable()
        if isinstance(candidate.trigger, kind) and candidate.trigger.model.lower() == label
    ]
