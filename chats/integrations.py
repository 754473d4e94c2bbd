"""DialogForm's side of the integrations app: the notifications it sends, and who administers an account.

The three types and their bodies are DialogForm's public contract (the product spec): a receiver's
code is built on every byte of them.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from accounts.models import Membership
from integrations.adapter import BaseAdapter, User
from integrations.catalog import Built, EventType, OnDelete, OnSave

from .models import Chat, Flow, Response

# The flowId of every example "Send example" sends: no real flow has it, so a receiver can tell.
EXAMPLE_FLOW_ID = 0

_FLOW_ID = {"type": "integer", "description": "The flow's id."}
_IDENTIFIER = {"type": "string", "description": "The participant's identifier, from the share link."}


def deleted_data(*, flow_id: int, identifier: str) -> dict[str, Any]:
    return {"flowId": flow_id, "identifier": identifier}


def completed_data(*, flow_id: int, identifier: str, score: int | float | None) -> dict[str, Any]:
    return {"flowId": flow_id, "identifier": identifier, "score": score}


def feedback_data(*, flow_id: int, identifier: str, prompt_name: str) -> dict[str, Any]:
    return {"flowId": flow_id, "identifier": identifier, "promptName": prompt_name}


def _chat_account_id(chat: Any) -> int:
    if Chat._meta.get_field("flow").is_cached(chat):
        return int(chat.flow.account_id)  # a chat loaded with its flow (as the chat page does): no query
    return int(Flow.objects.filter(pk=chat.flow_id).values_list("account_id", flat=True).get())


def chat_deleted(chat: Any) -> Built:
    return Built(
        account_id=_chat_account_id(chat), data=deleted_data(flow_id=int(chat.flow_id), identifier=str(chat.identifier))
    )


def chat_completed(chat: Any) -> Built:
    data = completed_data(flow_id=int(chat.flow_id), identifier=str(chat.identifier), score=chat.score)
    return Built(account_id=_chat_account_id(chat), data=data)


def chat_is_completed(chat: Any) -> bool:
    return bool(chat.status == Chat.Status.COMPLETED)


def feedback_updated(feedback: Any) -> Built:
    """The chat and prompt name of the response the feedback is on, in one query."""
    response: Any = (
        Response.objects.select_related("chat__flow", "prompt")
        .only("chat__flow__account_id", "chat__flow_id", "chat__identifier", "prompt__name")
        .get(pk=feedback.response_id)
    )
    chat = response.chat
    data = feedback_data(
        flow_id=int(chat.flow_id), identifier=str(chat.identifier), prompt_name=str(response.prompt.name)
    )
    return Built(account_id=int(chat.flow.account_id), data=data)


def _example(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "flowId": EXAMPLE_FLOW_ID}


_COMPLETED_EXAMPLE = {"flowId": 12, "identifier": "alice@example.com", "score": 7}
_DELETED_EXAMPLE = {"flowId": 12, "identifier": "alice@example.com"}
_FEEDBACK_EXAMPLE = {"flowId": 12, "identifier": "alice@example.com", "promptName": "capital"}

COMPLETED = EventType(
    name="completed",
    title="Chat completed",
    description="A participant completed a chat.",
    data={"flowId": _FLOW_ID, "identifier": _IDENTIFIER, "score": {"type": ["number", "null"]}},
    example=_COMPLETED_EXAMPLE,
    sent_example=_example(_COMPLETED_EXAMPLE),
    # Once per transition into completed (also when created completed); other saves read nothing.
    trigger=OnSave(
        model="chats.Chat", build=chat_completed, state=chat_is_completed, fields=("status",), when=chat_is_completed
    ),
)
DELETED = EventType(
    name="deleted",
    title="Chat deleted",
    description="An admin deleted a chat.",
    data={"flowId": _FLOW_ID, "identifier": _IDENTIFIER},
    example=_DELETED_EXAMPLE,
    sent_example=_example(_DELETED_EXAMPLE),
    trigger=OnDelete(model="chats.Chat", build=chat_deleted),
)
FEEDBACK_UPDATED = EventType(
    name="feedbackUpdated",
    title="Feedback updated",
    description="An admin gave, or changed, feedback on a response.",
    data={"flowId": _FLOW_ID, "identifier": _IDENTIFIER, "promptName": {"type": "string"}},
    example=_FEEDBACK_EXAMPLE,
    sent_example=_example(_FEEDBACK_EXAMPLE),
    # When feedback is created or its text changes.
    trigger=OnSave(
        model="chats.Feedback", build=feedback_updated, state=lambda feedback: feedback.text, fields=("text",)
    ),
)


class DialogFormAdapter(BaseAdapter):
    """DialogForm's accounts (accounts.Account), their admins (memberships), and its three notifications."""

    event_types = (COMPLETED, DELETED, FEEDBACK_UPDATED)
    subject_fields = ("flowId", "identifier")  # the events API's filters, as DialogForm's API has always had them
    example_note = f'An example\'s "flowId" is always {EXAMPLE_FLOW_ID}, which no real flow has.'

    def _admin_memberships(self) -> models.QuerySet[Membership]:
        return Membership.objects.filter(role="admin")

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
