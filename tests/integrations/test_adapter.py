"""The host boundary: the test host's adapter passes the adapter's contract, the contract catches an
adapter that lets members in, and a host's catalog decides what is news."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from django.db import models

from integrations.adapter import User, get_adapter
from integrations.models import Event, Webhook
from integrations.testing import adapter_contract_check
from tests.testhost.integrations import TICKET_CLOSED, HelpDeskAdapter
from tests.testhost.models import Team, Ticket
from tests.testhost.objects import HelpDeskObjects


@pytest.mark.django_db
def test_the_test_hosts_adapter_passes_the_contract() -> None:
    adapter_contract_check(HelpDeskAdapter(), HelpDeskObjects())


@pytest.mark.django_db
def test_the_contract_fails_an_adapter_that_lets_members_manage_webhooks() -> None:
    class MembersToo(HelpDeskAdapter):
        def accounts_for_admin(self, user: User) -> list[models.Model]:
            if not user.is_authenticated:
                return []
            return [*Team.objects.filter(admins=user), *Team.objects.filter(members=user)]

        def account_for_admin(self, user: User) -> models.Model | None:
            return next(iter(self.accounts_for_admin(user)), None)

    with pytest.raises(AssertionError, match="not an admin"):
        adapter_contract_check(MembersToo(), HelpDeskObjects())


def rated(ticket: Any) -> bool:
    return ticket.rating is not None


class ClosedMeansRated(HelpDeskAdapter):
    """A host whose tickets count as closed once they are rated (only that type's trigger changes)."""

    event_types = (
        replace(TICKET_CLOSED, trigger=replace(TICKET_CLOSED.trigger, state=rated, when=rated, fields=("rating",))),
        *HelpDeskAdapter.event_types[1:],
    )


@pytest.mark.django_db
def test_the_event_types_of_the_adapter_named_in_settings_decide_what_news_is(
    settings: Any, account: Any, webhook: Webhook
) -> None:
    settings.INTEGRATIONS_ADAPTER = f"{__name__}.ClosedMeansRated"
    assert isinstance(get_adapter(), ClosedMeansRated)
    ticket = Ticket.objects.create(team=account, reference="t-1")
    assert not Event.objects.exists()
    ticket.rating = 4  # still open for the test host's own adapter; closed for this one
    ticket.save()
    assert list(Event.objects.values_list("type", flat=True)) == ["ticket.closed"]
    ticket.save()
    assert Event.objects.count() == 1  # once per transition
