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
import os
import queue
import threading
from functools import partial
from typing import Any

from django.db import connections, models, transaction
from django.dispatch import Signal

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


class SignalSender:
    """The signals waiting to be sent (at most SIGNALS_QUEUE_MAX), and the one thread that sends them."""

    def __init__(self) -> None:
        self._queue: queue.Queue[tuple[Signal, type[Any], dict[str, Any]]] | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def put(self, signal: Signal, sender: type[Any], kwargs: dict[str, Any]) -> None:
        """Hand the signal to the sending thread; never waits. A full queue drops it, loudly."""
        waiting = self._started()
        # Copies: the thread that put them goes on changing its objects (a webhook's health counters).
        kwargs = {
            name: copy.copy(value) if isinstance(value, models.Model) else value for name, value in kwargs.items()
        }
        try:
            waiting.put_nowait((signal, sender, kwargs))
        except queue.Full:
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
        waiting = self._queue
        if waiting is None or self._pid != os.getpid():
            return True
        with waiting.all_tasks_done:
            return waiting.all_tasks_done.wait_for(lambda: not waiting.unfinished_tasks, timeout=timeout)

    def _started(self) -> queue.Queue[tuple[Signal, type[Any], dict[str, Any]]]:
        with self._lock:
            # A forked process (a web server's worker) has the queue but not the thread: it starts its own.
            if self._queue is None or self._pid != os.getpid():
                self._queue = queue.Queue(maxsize=conf.SIGNALS_QUEUE_MAX)
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._send_forever, args=(self._queue,), name="integrations-signals", daemon=True
                )
                self._thread.start()
            return self._queue

    def _send_forever(self, waiting: queue.Queue[tuple[Signal, type[Any], dict[str, Any]]]) -> None:
        while True:
            signal, sender, kwargs = waiting.get()
            try:
                # send_robust: Django logs a receiver's exception (logger "django.dispatch") and goes on.
                signal.send_robust(sender, **kwargs)
            except Exception:  # a bug of ours, not a receiver's: the thread must go on sending the next ones
                logger.exception("signal %s could not be sent", SIGNAL_NAMES.get(signal, "?"))
            finally:
                if waiting.empty():
                    # Receivers may have opened this thread's database connection: not kept while idle.
                    connections.close_all()
                waiting.task_done()


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
