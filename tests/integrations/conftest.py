"""The app's tests run on the test host (tests/testhost/): its objects, as fixtures.

Loaded on DialogForm's runs too (any_host/ is below it): the test host's modules are imported in the
fixtures, never at import.
"""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def ticket(account: Any) -> Any:
    """An open ticket of `account`: closing it (tests.testhost.objects.close) sends `ticket.closed`."""
    from tests.testhost.models import Ticket

    return Ticket.objects.create(team=account, reference="ticket-1")
