"""The host boundary: DialogForm's adapter passes the adapter's contract, and a host decides what is news."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from django.db import models

from accounts.models import Membership
from chats.integrations import COMPLETED, DialogFormAdapter
from chats.models import Chat, Flow
from integrations.adapter import User, get_adapter
from integrations.models import Event, Webhook
from integrations.testing import adapter_contract_check
from tests.helpers import DialogFormObjects


@pytest.mark.django_db
def test_dialogform_adapter_passes_the_contract() -> None:
    adapter_contract_check(DialogFormAdapter(), DialogFormObjects())


@pytest.mark.django_db
def test_the_contract_fails_an_adapter_that_lets_members_manage_webhooks() -> None:
    class MembersToo(DialogFormAdapter):
        def accounts_for_admin(self, user: User) -> list[models.Model]:
            if not user.is_authenticated:
                return []
            return [membership.account for membership in Membership.objects.filter(user=user)]

    with pytest.raises(AssertionError, match="not an admin"):
        adapter_contract_check(MembersToo(), DialogFormObjects())


def scored(chat: Any) -> bool:
    return chat.score is not None


class FinishedMeansScored(DialogFormAdapter):
    """A host whose chats count as completed once they have a score (only that type's trigger changes)."""

    event_types = (
        replace(COMPLETED, trigger=replace(COMPLETED.trigger, state=scored, when=scored, fields=("score",))),
        *DialogFormAdapter.event_types[1:],
    )


@pytest.mark.django_db
def test_the_event_types_of_the_adapter_named_in_settings_decide_what_a_completion_is(
    settings: Any, account: Any, flow: Flow, webhook: Webhook
) -> None:
    settings.INTEGRATIONS_ADAPTER = f"{__name__}.FinishedMeansScored"
    assert isinstance(get_adapter(), FinishedMeansScored)
    chat = Chat.objects.create(flow=flow, identifier="p-1")
    assert not Event.objects.exists()
    chat.score = 4  # still "in progress" for DialogForm; completed for this host
    chat.save()
    assert list(Event.objects.values_list("type", flat=True)) == ["completed"]
    chat.save()
    assert Event.objects.count() == 1  # once per transition, as with DialogForm's own
