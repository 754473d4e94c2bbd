"""Read-only queries over flows and chats."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from accounts.models import Account

from .models import Chat, Flow, Prompt, Response


def flows_for_account(*, account: Account) -> QuerySet[Flow]:
    return Flow.objects.filter(account=account).annotate(
        chat_count=Count("chats"),
        completed_count=Count("chats", filter=Q(chats__status=Chat.Status.COMPLETED)),
    )


def flow_for_account(*, account: Account, flow_id: int) -> Flow | None:
    return Flow.objects.filter(pk=flow_id, account=account).first()


def chats_for_flow(*, flow: Flow, status: str = "") -> QuerySet[Chat]:
    chats = Chat.objects.filter(flow=flow).order_by("-started_at", "-id")
    return chats.filter(status=status) if status else chats


def chat_for_account(*, account: Account, chat_id: int) -> Chat | None:
    return Chat.objects.filter(pk=chat_id, flow__account=account).select_related("flow").first()


def chat_conversation(*, chat: Chat) -> list[tuple[Prompt, Response | None]]:
    """Each prompt of the flow, in order, with the chat's response to it (None if not answered)."""
    responses = {
        response.prompt_id: response for response in Response.objects.filter(chat=chat).select_related("feedback")
    }
    return [(prompt, responses.get(prompt.pk)) for prompt in chat.flow.prompts.order_by("position", "id")]


def flow_by_share_token(*, token: str) -> Flow | None:
    return Flow.objects.filter(share_token=token).first()
