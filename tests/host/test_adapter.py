"""DialogForm's adapter passes the app's adapter contract."""

from __future__ import annotations

import pytest

from chats.integrations import DialogFormAdapter
from integrations.testing import adapter_contract_check
from tests.host.objects import DialogFormObjects


@pytest.mark.django_db
def test_dialogform_adapter_passes_the_contract() -> None:
    adapter_contract_check(DialogFormAdapter(), DialogFormObjects())
