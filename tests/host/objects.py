"""DialogForm's objects for the adapter's contract and the shared fixtures (integrations.testing.HostObjects)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from accounts.models import Account, Membership
from chats.models import Chat, Feedback, Flow, Prompt, Response


class DialogFormObjects:
    """DialogForm's objects for the adapter's contract (integrations.testing.HostObjects)."""

    def __init__(self) -> None:
        self.made = 0

    def _next(self) -> int:
        self.made += 1
        return self.made

    def account(self) -> Account:
        return Account.objects.create(name=f"Account {self._next()}")

    def chat(self, account: Any, *, completed: bool) -> Chat:
        flow = Flow.objects.create(account=account, name=f"Flow {self._next()}")
        Prompt.objects.create(flow=flow, name="capital", text="What is the capital of France?")
        status = Chat.Status.COMPLETED if completed else Chat.Status.IN_PROGRESS
        return Chat.objects.create(flow=flow, identifier=f"participant-{self._next()}", status=status, score=3)

    def cause(self, event_type: str, account: Any) -> Any:
        chat = self.chat(account, completed=False)
        if event_type == "completed":
            chat.status = Chat.Status.COMPLETED
            chat.save()
            return chat
        if event_type == "feedbackUpdated":
            response = Response.objects.create(chat=chat, prompt=chat.flow.prompts.get(), answer="Paris")
            return Feedback.objects.create(response=response, text="Well done")
        if event_type == "deleted":
            chat.delete()
            return chat
        raise ValueError(f"DialogForm sends no {event_type!r}")

    def _user(self, account: Any, role: str, email: str) -> AbstractBaseUser:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.create_user(username=f"user-{self._next()}", email=email)
        Membership.objects.create(account=account, user=user, role=role)
        return user

    def admin(self, account: Any, *, email: str) -> AbstractBaseUser:
        return self._user(account, Membership.Role.ADMIN, email)

    def member(self, account: Any) -> AbstractBaseUser:
        return self._user(account, Membership.Role.MEMBER, "member@example.com")
