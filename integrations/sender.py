"""A worker process's sender: many endpoints at once, each on its own thread, in two lanes.

An RQ job only hands its webhook to the sender and returns, so the worker takes the next job at
once; waiting on a slow receiver costs a seat and a thread, not the worker. Seats come in two lanes:

- healthy endpoints share SENDER_ENDPOINTS seats; when all are taken, the worker waits for one
  before it takes another job (back-pressure: the deliveries wait safely in the database);
- endpoints in trouble (failing, cooling down, or with an attempt unanswered after
  SLOW_ATTEMPT_SECONDS) move to the SENDER_TROUBLED_ENDPOINTS seats of their own lane and give
  their healthy seat back, so however many endpoints hang, the healthy ones keep theirs.

Attempts to one healthy endpoint run up to ENDPOINT_CONCURRENCY at once on a shared pool of
SENDER_MAX_IN_FLIGHT threads; an endpoint in trouble gets one attempt at a time, on its own thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.db import close_old_connections, connections

from .conf import conf

logger = logging.getLogger(__name__)

HEALTHY = "healthy"
TROUBLED = "troubled"


@dataclass(eq=False)
class Seat:
    """One endpoint being sent to by this process: its lane, and since when its oldest attempt is in flight."""

    lane: str = HEALTHY
    attempting_since: float | None = None
    webhook_id: int | None = None

    @property
    def troubled(self) -> bool:
        return self.lane == TROUBLED


class Lanes:
    """The seats of one process, and the keeper that moves a seat whose attempt went slow."""

    def __init__(self, *, healthy: int, troubled: int, slow_after: float) -> None:
        self.healthy_max = healthy
        self.troubled_max = troubled
        self.slow_after = slow_after
        self.healthy_used = 0
        self.troubled_used = 0
        self.seats: set[Seat] = set()
        self._changed = threading.Condition()
        self._stopping = False
        self._keeper = threading.Thread(target=self._keep, name="webhook-lanes", daemon=True)
        self._keeper.start()

    def take(self) -> Seat:
        """A healthy seat, as soon as one is free."""
        with self._changed:
            self._changed.wait_for(lambda: self.healthy_used < self.healthy_max)
            self.healthy_used += 1
            seat = Seat()
            self.seats.add(seat)
            return seat

    def move_to_troubled(self, seat: Seat, *, even_if_full: bool = False) -> bool:
        """Give the healthy seat back for one in the troubled lane; False (and nothing changed) when it is full.

        `even_if_full` is for an attempt already in flight that went slow: it is there either way,
        and what matters is that the healthy seat it held is free again.
        """
        with self._changed:
            if seat.troubled:
                return True
            if self.troubled_used >= self.troubled_max and not even_if_full:
                return False
            seat.lane = TROUBLED
            self.healthy_used -= 1
            self.troubled_used += 1
            self._changed.notify_all()
            return True

    def give_back(self, seat: Seat) -> None:
        with self._changed:
            if seat in self.seats:
                self.seats.discard(seat)
                if seat.troubled:
                    self.troubled_used -= 1
                else:
                    self.healthy_used -= 1
                self._changed.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: not self.seats, timeout=timeout)

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()

    def _keep(self) -> None:
        """Move seats whose attempt has been unanswered for SLOW_ATTEMPT_SECONDS to the troubled lane."""
        tick = max(0.02, min(0.1, self.slow_after / 4))
        with self._changed:
            while not self._stopping:
                now = time.monotonic()
                for seat in list(self.seats):
                    since = seat.attempting_since
                    if not seat.troubled and since is not None and now - since >= self.slow_after:
                        seat.lane = TROUBLED
                        self.healthy_used -= 1
                        self.troubled_used += 1
                        self._changed.notify_all()
                        logger.info("webhook %s: an attempt is slow; moved to the troubled lane", seat.webhook_id)
                self._changed.wait(tick)


class Sender:
    """The seats and threads of one worker process; installed by the worker (integrations.worker)."""

    def __init__(self, send: Callable[..., Any]) -> None:
        # send(webhook_id=, seat=, lanes=): the service that sends a webhook's due deliveries.
        self.send = send
        self.lanes = Lanes(
            healthy=conf.SENDER_ENDPOINTS, troubled=conf.SENDER_TROUBLED_ENDPOINTS, slow_after=conf.SLOW_ATTEMPT_SECONDS
        )
        # Threads (and their database connections) are reused from one webhook to the next. Room for
        # both lanes, and as many again for endpoints that went slow while the troubled lane was full.
        self._threads = ThreadPoolExecutor(
            max_workers=2 * conf.SENDER_ENDPOINTS + conf.SENDER_TROUBLED_ENDPOINTS, thread_name_prefix="webhook-send"
        )
        # The threads' database connections, closed when the sender stops (not left to the garbage collector).
        self._connections: dict[int, Any] = {}
        self._connections_lock = threading.Lock()

    def submit(self, webhook_id: int) -> None:
        """Send the webhook's due deliveries on a thread of its own, once a healthy seat is free."""
        seat = self.lanes.take()
        seat.webhook_id = webhook_id
        self._threads.submit(self._run, webhook_id, seat)

    def _run(self, webhook_id: int, seat: Seat) -> None:
        try:
            close_old_connections()
            self.send(webhook_id=webhook_id, seat=seat, lanes=self.lanes)
        except Exception:
            # The deliveries are safe in the database: their claims expire and the sweeper queues them.
            logger.exception("webhook %s: sending stopped on an error", webhook_id)
        finally:
            with self._connections_lock:
                for opened in connections.all(initialized_only=True):
                    self._connections[id(opened)] = opened
            self.lanes.give_back(seat)

    def stop(self, *, timeout: float) -> bool:
        """Wait for the sends in progress (each is bounded by the job and attempt limits); True when all ended.

        When they all ended, the threads' database connections are closed here: a worker that stops
        warm gives its connections back to the database at once.
        """
        finished = self.lanes.wait_idle(timeout)
        self.lanes.stop()
        self._threads.shutdown(wait=finished)
        if finished:
            with self._connections_lock:
                opened, self._connections = list(self._connections.values()), {}
            for connection in opened:
                connection.inc_thread_sharing()  # it was opened on a sending thread, which has ended
                connection.close()
        return finished


# Attempts to healthy endpoints beyond each one's first, at most SENDER_MAX_IN_FLIGHT at once per process.
_attempts: ThreadPoolExecutor | None = None
_attempts_lock = threading.Lock()


def attempt_pool() -> ThreadPoolExecutor:
    global _attempts
    with _attempts_lock:
        if _attempts is None:
            _attempts = ThreadPoolExecutor(max_workers=conf.SENDER_MAX_IN_FLIGHT, thread_name_prefix="webhook-attempt")
        return _attempts


_current: Sender | None = None


def sender_start(send: Callable[..., Any]) -> Sender:
    global _current
    _current = Sender(send)
    return _current


def sender_current() -> Sender | None:
    """The running worker's sender; None elsewhere (a job run in a test, or in the web process)."""
    return _current


def sender_stop(*, timeout: float) -> bool:
    global _current
    sender, _current = _current, None
    return sender.stop(timeout=timeout) if sender is not None else True
