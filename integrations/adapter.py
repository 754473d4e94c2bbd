"""The host boundary: everything the app knows about the product it is installed in, in one adapter.

The app never imports the host's modules. It asks the adapter named by `INTEGRATIONS_ADAPTER`
which models hold the account, the chat and the feedback, what a chat's account is, when a
save is a completion, what goes in the notifications' bodies, and who may manage an account's
webhooks. `DialogFormAdapter` (the default) serves DialogForm's models by their labels; another
project subclasses `BaseAdapter` and overrides what differs (see docs/install.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol, runtime_checkable

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models
from django.http import HttpRequest
from django.utils.module_loading import import_string

from .conf import conf

User = AbstractBaseUser | AnonymousUser


@dataclass(frozen=True)
class ChatFacts:
    """What the `completed` and `deleted` bodies say about a chat, and whose account it is."""

    account_id: int
    flow_id: int
    identifier: str


@dataclass(frozen=True)
class FeedbackFacts:
    """What the `feedbackUpdated` body says about feedback: its chat, and the prompt it is on."""

    chat: ChatFacts
    prompt_name: str


@runtime_checkable
class IntegrationsAdapter(Protocol):
    """The methods the app calls; `BaseAdapter` implements the generic ones."""

    account_model: str
    chat_model: str
    feedback_model: str
    # The fields each method below reads, checked at start-up (`manage.py check`), not in a worker.
    chat_fields: tuple[str, ...]
    feedback_fields: tuple[str, ...]

    def get_account_model(self) -> type[models.Model]: ...
    def get_chat_model(self) -> type[models.Model]: ...
    def get_feedback_model(self) -> type[models.Model]: ...
    def chat_is_completed(self, chat: models.Model) -> bool: ...
    def chat_facts(self, chat: models.Model) -> ChatFacts: ...
    def chat_score(self, chat: models.Model) -> int | float | None: ...
    def feedback_text(self, feedback: models.Model) -> str: ...
    def feedback_facts(self, feedback: models.Model) -> FeedbackFacts: ...
    def is_account_deletion(self, origin: object) -> bool: ...
    def account_admin_emails(self, account_id: int) -> list[str]: ...
    def account_for_admin(self, user: User) -> models.Model | None: ...
    def accounts_for_admin(self, user: User) -> list[models.Model]: ...
    def account_for_request(self, request: HttpRequest) -> models.Model | None: ...


class BaseAdapter:
    """What any host shares: models found by label, deletions started from an account.

    A subclass names its models and implements the chat, feedback and admin methods.
    """

    account_model = ""  # the label in INTEGRATIONS_ACCOUNT_MODEL, unless a subclass names another
    chat_model = ""
    feedback_model = ""
    chat_fields: tuple[str, ...] = ()
    feedback_fields: tuple[str, ...] = ()

    def get_account_model(self) -> type[models.Model]:
        return apps.get_model(self.account_model or conf.ACCOUNT_MODEL)

    def get_chat_model(self) -> type[models.Model]:
        return apps.get_model(self.chat_model)

    def get_feedback_model(self) -> type[models.Model]:
        return apps.get_model(self.feedback_model)

    def is_account_deletion(self, origin: object) -> bool:
        """Whether a delete started from an account (its webhooks go with it, so nothing is sent)."""
        account = self.get_account_model()
        if isinstance(origin, models.QuerySet):
            return issubclass(origin.model, account)
        return isinstance(origin, account)

    def chat_is_completed(self, chat: models.Model) -> bool:
        raise NotImplementedError(f"{type(self).__name__} must say when a chat is completed")

    def chat_facts(self, chat: models.Model) -> ChatFacts:
        raise NotImplementedError(f"{type(self).__name__} must say what the bodies carry about a chat")

    def chat_score(self, chat: models.Model) -> int | float | None:
        return None

    def feedback_text(self, feedback: models.Model) -> str:
        raise NotImplementedError(f"{type(self).__name__} must say what feedback's text is")

    def feedback_facts(self, feedback: models.Model) -> FeedbackFacts:
        raise NotImplementedError(f"{type(self).__name__} must say which chat and prompt feedback is on")

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


class DialogFormAdapter(BaseAdapter):
    """DialogForm's models: accounts.Account, chats.Chat (in a flow) and chats.Feedback (on a response)."""

    chat_model = "chats.Chat"
    feedback_model = "chats.Feedback"
    membership_model = "accounts.Membership"
    chat_fields = ("flow", "identifier", "status", "score")
    feedback_fields = ("response", "text")

    def chat_is_completed(self, chat: models.Model) -> bool:
        return getattr(chat, "status", None) == "completed"

    def chat_facts(self, chat: models.Model) -> ChatFacts:
        row: Any = chat
        if type(chat)._meta.get_field("flow").is_cached(chat):  # type: ignore[union-attr]
            account_id = row.flow.account_id  # a chat loaded with its flow (as the chat page does): no query
        else:
            flows = apps.get_model("chats.Flow")._default_manager
            account_id = flows.filter(pk=row.flow_id).values_list("account_id", flat=True).get()
        return ChatFacts(account_id=int(account_id), flow_id=int(row.flow_id), identifier=str(row.identifier))

    def chat_score(self, chat: models.Model) -> int | float | None:
        score: int | float | None = getattr(chat, "score", None)
        return score

    def feedback_text(self, feedback: models.Model) -> str:
        return str(getattr(feedback, "text", ""))

    def feedback_facts(self, feedback: models.Model) -> FeedbackFacts:
        """The chat and prompt name of the response the feedback is on, in one query."""
        response: Any = (
            apps.get_model("chats.Response")
            ._default_manager.select_related("chat__flow", "prompt")
            .only("chat__flow__account_id", "chat__flow_id", "chat__identifier", "prompt__name")
            .get(pk=getattr(feedback, "response_id", None))
        )
        chat = ChatFacts(
            account_id=int(response.chat.flow.account_id),
            flow_id=int(response.chat.flow_id),
            identifier=str(response.chat.identifier),
        )
        return FeedbackFacts(chat=chat, prompt_name=str(response.prompt.name))

    def _admin_memberships(self) -> models.QuerySet[Any]:
        memberships: models.QuerySet[Any] = apps.get_model(self.membership_model)._default_manager.filter(role="admin")
        return memberships

    def account_admin_emails(self, account_id: int) -> list[str]:
        """Where to tell an account's admins about their webhook (users without an address are skipped)."""
        emails = (
            self._admin_memberships()
            .filter(account_id=account_id)
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
        return sorted(set(emails))

    def account_for_admin(self, user: User) -> models.Model | None:
        """The first account (by id) the user administers; None for anyone else."""
        accounts = self.accounts_for_admin(user)
        return min(accounts, key=lambda account: account.pk) if accounts else None

    def accounts_for_admin(self, user: User) -> list[models.Model]:
        if not user.is_authenticated:
            return []
        memberships = self._admin_memberships().filter(user=user).select_related("account")
        return [membership.account for membership in memberships.order_by("account__name", "account_id")]


def admin_accounts(request: HttpRequest, adapter: Any = None) -> list[models.Model]:
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
