"""What the help desk tells its teams' endpoints: a ticket closed, a ticket deleted, a note changed."""

from __future__ import annotations

from typing import Any

from integrations.adapter import BaseAdapter
from integrations.catalog import Built, EventType, OnDelete, OnSave

from .models import Note, Team, Ticket

EXAMPLE_TICKET_ID = 0  # no ticket has it: "Send example" is told apart by it

_TICKET = {"ticketId": {"type": "integer"}, "reference": {"type": "string"}}


def closed_data(*, ticket_id: int, reference: str, rating: int | None) -> dict[str, Any]:
    return {"ticketId": ticket_id, "reference": reference, "rating": rating}


def deleted_data(*, ticket_id: int, reference: str) -> dict[str, Any]:
    return {"ticketId": ticket_id, "reference": reference}


def note_data(*, ticket_id: int, reference: str, note_id: int) -> dict[str, Any]:
    return {"ticketId": ticket_id, "reference": reference, "noteId": note_id}


def is_closed(ticket: Ticket) -> bool:
    return ticket.closed_at is not None


def ticket_closed(ticket: Ticket) -> Built:
    data = closed_data(ticket_id=ticket.pk, reference=ticket.reference, rating=ticket.rating)
    return Built(account_id=ticket.team_id, data=data)


def ticket_deleted(ticket: Ticket) -> Built:
    return Built(account_id=ticket.team_id, data=deleted_data(ticket_id=ticket.pk, reference=ticket.reference))


def note_changed(note: Note) -> Built:
    ticket = Ticket.objects.only("team_id", "reference").get(pk=note.ticket_id)
    data = note_data(ticket_id=note.ticket_id, reference=ticket.reference, note_id=note.pk)
    return Built(account_id=ticket.team_id, data=data)


TICKET_CLOSED = EventType(
    name="ticket.closed",
    title="Ticket closed",
    description="A ticket was closed, with its rating if the customer gave one.",
    data={**_TICKET, "rating": {"type": ["integer", "null"]}},
    example=closed_data(ticket_id=7, reference="The printer is on fire", rating=4),
    sent_example=closed_data(ticket_id=EXAMPLE_TICKET_ID, reference="The printer is on fire", rating=4),
    trigger=OnSave(
        model="testhost.Ticket", build=ticket_closed, state=is_closed, fields=("closed_at",), when=is_closed
    ),
)
TICKET_DELETED = EventType(
    name="ticket.deleted",
    title="Ticket deleted",
    description="A ticket was deleted (on its own, or with the rest of its team's).",
    data=_TICKET,
    example=deleted_data(ticket_id=7, reference="The printer is on fire"),
    sent_example=deleted_data(ticket_id=EXAMPLE_TICKET_ID, reference="The printer is on fire"),
    trigger=OnDelete(model="testhost.Ticket", build=ticket_deleted),
)
NOTE_CHANGED = EventType(
    name="note.changed",
    title="Note changed",
    description="A note on a ticket was written or changed.",
    data={**_TICKET, "noteId": {"type": "integer"}},
    example=note_data(ticket_id=7, reference="The printer is on fire", note_id=3),
    sent_example=note_data(ticket_id=EXAMPLE_TICKET_ID, reference="The printer is on fire", note_id=0),
    trigger=OnSave(model="testhost.Note", build=note_changed, state=lambda note: note.text, fields=("text",)),
)


class HelpDeskAdapter(BaseAdapter):
    event_types = (TICKET_CLOSED, TICKET_DELETED, NOTE_CHANGED)
    subject_fields = ("ticketId", "reference")
    example_note = f"An example's ticketId is {EXAMPLE_TICKET_ID}: no ticket has it."

    def account_for_admin(self, user: Any) -> Team | None:
        if not user.is_authenticated:
            return None
        return Team.objects.filter(admins=user).order_by("id").first()

    def accounts_for_admin(self, user: Any) -> list[Team]:
        if not user.is_authenticated:
            return []
        return list(Team.objects.filter(admins=user).order_by("id"))

    def account_admin_emails(self, account_id: int) -> list[str]:
        return sorted({user.email for user in Team.objects.get(pk=account_id).admins.all() if user.email})
