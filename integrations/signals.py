"""The app's own signals: what happened to a webhook or a delivery, for the host to act on.

Each is sent once the change has committed, with `sender=Webhook` (or `Delivery`), and never from
the thread that put it: one thread per process sends them, in the order they happened, so that a
slow receiver (a mail server that hangs, a host's receiver that calls a slow API) delays no
attempt and no page. A receiver that raises is logged and never undoes or blocks the change. The
app's default receivers (the e-mails to the account's admins, in `integrations.notices`) are
connected with the dispatch_uids below, so that a host can disconnect them and send its own messages.
"""

from __future__ import annotations

import atexit
import copy
import logging
from functools import partial
from typing import Any

from django.db import models, transaction
from django.dispatch import Signal

from .background import BackgroundThread
from .conf import conf

logger = logging.getLogger(__name__)

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

SIGNAL_NAMES = {
    webhook_disabled: "webhook_disabled",
    webhook_enabled: "webhook_enabled",
    webhook_failing: "webhook_failing",
    webhook_recovered: "webhook_recovered",
    delivery_failed: "delivery_failed",
}

EMAIL_ADMINS_ON_DISABLE = "integrations.notices.email_admins_on_disable"
EMAIL_ADMINS_ON_FAILING = "integrations.notices.email_admins_on_failing"
EMAIL_ADMINS_ON_RECOVERED = "integrations.notices.email_admins_on_recovered"


_Waiting = tuple[Signal, type[Any], dict[str, Any]]


def _send(batch: list[_Waiting]) -> None:
    for signal, sender, kwargs in batch:
        try:
            # send_robust: Django logs a receiver's exception (logger "django.dispatch") and goes on.
            signal.send_robust(sender, **kwargs)
        except Exception:  # a bug of ours, not a receiver's: the thread must go on sending the next ones
            logger.exception("signal %s could not be sent", SIGNAL_NAMES.get(signal, "?"))


class SignalSender:
    """The signals waiting to be sent (at most SIGNALS_QUEUE_MAX), and the one thread that sends them."""

    def __init__(self) -> None:
        self._thread = BackgroundThread("integrations-signals", _send, lambda: conf.SIGNALS_QUEUE_MAX)

    def put(self, signal: Signal, sender: type[Any], kwargs: dict[str, Any]) -> None:
        """Hand the signal to the sending thread; never waits. A full queue drops it, loudly."""
        # Copies: the thread that put them goes on changing its objects (a webhook's health counters).
        kwargs = {
            name: copy.copy(value) if isinstance(value, models.Model) else value for name, value in kwargs.items()
        }
        if not self._thread.put((signal, sender, kwargs)):
            webhook = kwargs.get("webhook")
            logger.error(
                "signal %s (endpoint %s) not sent: %s signals are waiting already; a receiver is slow or hangs",
                SIGNAL_NAMES.get(signal, "?"),
                getattr(webhook, "pk", None),
                conf.SIGNALS_QUEUE_MAX,
                extra={"signal": SIGNAL_NAMES.get(signal, "?"), "endpoint_id": getattr(webhook, "pk", None)},
            )

    def wait_sent(self, timeout: float) -> bool:
        """Wait until every signal put so far has been sent; True when they all were within `timeout`."""
        return self._thread.wait_done(timeout)


signal_sender = SignalSender()


def send_on_commit(signal: Signal, sender: type[Any], **kwargs: Any) -> None:
    """Send `signal` from the signals' thread once the current transaction commits (at once outside one)."""
    transaction.on_commit(partial(signal_sender.put, signal, sender, kwargs), robust=True)


def signals_sent(timeout: float | None = None) -> bool:
    """Wait until the signals put so far were sent (SIGNALS_EXIT_WAIT by default): a stopping worker, tests."""
    return signal_sender.wait_sent(conf.SIGNALS_EXIT_WAIT if timeout is None else timeout)


@atexit.register
def _send_before_exit() -> None:
    if not signals_sent():
        logger.warning("the process stopped with signals still waiting to be sent (a receiver is slow or hangs)")
