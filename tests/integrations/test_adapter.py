"""The host boundary: DialogForm's adapter passes the adapter's contract, and a host can change what it reads."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import models

from chats.models import Chat, Flow
from integrations.adapter import BaseAdapter, ChatFacts, DialogFormAdapter, get_adapter
from integrations.models import Event, Webhook
from integrations.testing import adapter_contract_check
from tests.helpers import DialogFormObjects


@pytest.mark.django_db
def test_dialogform_adapter_passes_the_contract() -> None:
    adapter_contract_check(DialogFormAdapter(), DialogFormObjects())


@pytest.mark.django_db
def test_the_contract_fails_an_adapter_that_gets_the_account_wrong() -> None:
    class WrongAccount(DialogFormAdapter):
        def chat_facts(self, chat: models.Model) -> ChatFacts:
            facts = super().chat_facts(chat)
            return ChatFacts(account_id=facts.account_id + 1000, flow_id=facts.flow_id, identifier=facts.identifier)

    with pytest.raises(AssertionError, match="its account"):
        adapter_contract_check(WrongAccount(), DialogFormObjects())


def test_the_base_adapter_says_what_a_host_must_write() -> None:
    with pytest.raises(NotImplementedError, match="when a chat is completed"):
        BaseAdapter().chat_is_completed(Chat())


class FinishedMeansScored(DialogFormAdapter):
    """A host whose chats count as completed once they have a score (only this method changes)."""

    def chat_is_completed(self, chat: models.Model) -> bool:
        return getattr(chat, "score", None) is not None


@pytest.mark.django_db
def test_the_adapter_named_in_settings_decides_what_a_completion_is(
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
    assert Event.objects.count() == 1  # once per transition, as with the default adapter
