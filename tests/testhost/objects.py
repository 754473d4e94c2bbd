"""The test host's objects, for the app's tests and its contract (integrations.testing.HostObjects)."""

from __future__ import annotations

from itertools import count
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from .models import Note, Team, Ticket

_made = count(1)


def close(ticket: Ticket, *, rating: int | None = 4) -> Ticket:
    """Close the ticket: its team's endpoints are sent `ticket.closed`."""
    ticket.closed_at, ticket.rating = timezone.now(), rating
    ticket.save()
    return ticket


class HelpDeskObjects:
    def account(self) -> Team:
        return Team.objects.create(name=f"Team {next(_made)}")

    def ticket(self, account: Any, reference: str = "") -> Ticket:
        return Ticket.objects.create(team=account, reference=reference or f"ticket-{next(_made)}")

    def cause(self, event_type: str, account: Any) -> Any:
        ticket = self.ticket(account)
        if event_type == "ticket.closed":
            return close(ticket)
        if event_type == "ticket.deleted":
            ticket.delete()
            return ticket
        if event_type == "note.changed":
            return Note.objects.create(ticket=ticket, text="Replaced the toner")
        raise ValueError(f"the help desk sends no {event_type!r}")

    def _user(self, email: str) -> AbstractBaseUser:
        return get_user_model().objects.create_user(username=f"user-{next(_made)}", email=email)

    def admin(self, account: Any, *, email: str) -> AbstractBaseUser:
        user = self._user(email)
        account.admins.add(user)
        return user

    def member(self, account: Any) -> AbstractBaseUser:
        user = self._user("member@example.com")
        account.members.add(user)
        return user
