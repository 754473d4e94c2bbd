"""Read-only queries over flows and chats."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from accounts.models import Account

from .models import Chat, Flow


def flows_for_account(*, account: Account) -> QuerySet[Flow]:
    return Flow.objects.filter(account=account).annotate(
        chat_count=Count("chats"),
        completed_count=Count("chats", filter=Q(chats__status=Chat.Status.COMPLETED)),
    )
