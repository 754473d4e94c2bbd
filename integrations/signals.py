"""The app's own signals: what happened to a webhook or a delivery, for the host to act on.

Each is sent once the change has committed, with `sender=Webhook` (or `Delivery`). A receiver
that raises is logged and never undoes or blocks the change. The app's default receivers (the
e-mails to the account's admins, in `integrations.notices`) are connected with the dispatch_uids
below, so that a host can disconnect them and send its own messages instead.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction
from django.dispatch import Signal

# A webhook was turned off for failing: kwargs `webhook`, `reason` (a sentence for people).
webhook_disabled = Signal()
# A disabled webhook was turned back on: kwargs `webhook`, `resent` (deliveries sent again).
webhook_enabled = Signal()
# An endpoint started failing (ALERT_AFTER_FAILURES attempts in a row): kwargs `webhook`, `failures`.
webhook_failing = Signal()
# An endpoint that was failing answered with a success again: kwargs `webhook`, `failed` (attempts in a row).
webhook_recovered = Signal()
# A delivery failed for good (its retries ran out, or it could not be sent): kwargs `delivery`,
# `webhook`, `error` (the last attempt's error).
delivery_failed = Signal()

EMAIL_ADMINS_ON_DISABLE = "integrations.notices.email_admins_on_disable"
EMAIL_ADMINS_ON_FAILING = "integrations.notices.email_admins_on_failing"
EMAIL_ADMINS_ON_RECOVERED = "integrations.notices.email_admins_on_recovered"


def send_on_commit(signal: Signal, sender: type[Any], **kwargs: Any) -> None:
    """Send `signal` once the current transaction commits (at once outside one).

    send_robust: Django logs a receiver's exception (logger "django.dispatch") and goes on.
    """
    transaction.on_commit(partial(signal.send_robust, sender, **kwargs), robust=True)
