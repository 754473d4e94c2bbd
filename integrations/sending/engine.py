"""The sending engine: one per worker process, every attempt of the process in flight on one event loop.

Two threads, both started and owned here, and nothing else in the app keeps process state for sending:

- the loop thread runs asyncio: each endpoint held is a task (`_serve`) that claims its due
  deliveries and keeps up to its window of attempts in flight; each attempt is a task of its own.
  Windows, lanes and pacing are decided by `endpoints`; the transport is aiohttp's client.
- the database thread runs every query, batched: claims for many endpoints in one UPDATE, the
  attempts written by one writer in bulk, leases taken and let go together (`store`). The loop
  never waits on the database per attempt: outcomes are queued, and written while it sends on.

At least once: a delivery is claimed (with a lease) before it is sent and recorded after; a worker
that dies leaves claims that expire, and the next sender sends them again with the same webhook-id.
At most one sender per endpoint: the endpoint's sending lease (`Webhook.acquire_sending`) is held
while its task runs, renewed while it sends, and let go when nothing is due.

`RQ` jobs are wake-ups: `wake(webhook_ids)` from any thread. Without a running engine (a plain rq
worker, a test), `deliver_once` runs one on the caller's thread until the endpoints are drained.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from typing import Any

from django.db import connection
from django.utils import timezone

from ..conf import conf
from ..health import EndpointHealth
from ..models import Webhook
from ..queue import heartbeat, webhook_wake, webhook_wake_at
from ..retry import parse_retry_after, retry_delay
from . import signing, store
from .claims import Claimed
from .database import Batched, DatabaseSide, Writer
from .endpoints import Endpoint, Lane, Lanes, lane, pace_delay, window
from .transport import Client, TransportResult

logger = logging.getLogger(__name__)

# Answers whose Retry-After we honour (bounded by the schedule).
RETRY_AFTER_STATUSES = {429, 503}
HEARTBEAT_EVERY_SECONDS = 1.0
# How often the engine looks at its attempts in flight (slow ones change lane) and at the endpoints it holds.
TICK_SECONDS = 0.1
REFRESH_EVERY_SECONDS = 2.0
SWITCH_INTERVAL_SECONDS = 0.0005


@dataclass
class _InFlight:
    endpoint: Endpoint
    started: float
    lane: Lane


class Engine:
    """The sender of one worker process (`start`, `wake`, `stop`), or of one call (`deliver_once`)."""

    def __init__(self, *, max_deliveries: int | None = None, max_seconds: float | None = None) -> None:
        self.owner = uuid.uuid4()
        self.db = DatabaseSide()
        self.endpoints: dict[int, Endpoint] = {}
        self.sent = 0
        self.started_attempts = 0
        # Bounds of one call (deliver_once); a worker's engine runs until it is stopped.
        self.max_deliveries = max_deliveries
        self.max_seconds = max_seconds
        self.started = time.monotonic()
        self.out_of_bounds = False
        self.stopping = False
        # Stopping: send what is due (a burst worker's end) or only finish what is in flight (a signal).
        self.drain_on_stop = False
        self.loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: threading.Thread | None = None
        self._db_thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._done = threading.Event()
        self._in_flight: dict[int, _InFlight] = {}
        self._attempts: set[asyncio.Task[None]] = set()
        # Tasks serving an endpoint each, and tasks taking endpoints' leases (soon serving).
        self._serving: set[asyncio.Task[None]] = set()
        self._lane_waiters: set[Endpoint] = set()
        self._heartbeat_at = 0.0
        self._heartbeat_sent = 0

    # --- from other threads ------------------------------------------------------------------

    def start(self) -> None:
        """Start the loop and database threads (a worker process, before it takes jobs)."""
        # The database thread runs Python in long stretches; the loop, short ones between system calls, each
        # of which gives the interpreter lock up. A shorter switch interval gets it back sooner (5 ms by default).
        sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
        self._db_thread = threading.Thread(target=self._serve_database, name="webhook-database", daemon=True)
        self._db_thread.start()
        self._loop_thread = threading.Thread(target=self._run_loop, name="webhook-loop", daemon=True)
        self._loop_thread.start()
        self._ready.wait()

    def wake(self, webhook_ids: Iterable[int]) -> None:
        """These endpoints may have deliveries due: send them (from any thread; returns at once)."""
        ids = list(webhook_ids)
        if self.loop is not None and not self._done.is_set():
            self.loop.call_soon_threadsafe(self._wake, ids)

    def stop(self, *, timeout: float, drain: bool = False) -> bool:
        """Stop warm: the attempts in flight end and are recorded, unsent claims are given back, leases let go.

        `drain`: first send everything due to the endpoints held (a burst worker finishing its queue).
        True when everything ended within `timeout`.
        """
        if self.loop is None:
            return True
        self.loop.call_soon_threadsafe(self._begin_stop, drain)
        finished = self._done.wait(timeout)
        if self._db_thread is not None:
            self.db.finish()
            self._db_thread.join(timeout=5)
        return finished

    @classmethod
    def deliver_once(cls, webhook_ids: list[int]) -> int:
        """Send these endpoints' due deliveries here and now, within JOB_MAX_DELIVERIES and JOB_MAX_SECONDS.

        The caller's thread serves the database (its connection, its transaction); the loop runs
        beside it. What is left is queued for a fresh job. Returns the number of attempts made.
        """
        engine = cls(max_deliveries=conf.JOB_MAX_DELIVERIES, max_seconds=conf.JOB_MAX_SECONDS)
        engine._loop_thread = threading.Thread(
            target=engine._run_loop, kwargs={"initial": webhook_ids}, name="webhook-loop", daemon=True
        )
        engine._loop_thread.start()
        engine.db.serve(own_connection=False)
        engine._loop_thread.join()
        return engine.sent

    # --- the threads ---------------------------------------------------------------------------

    def _serve_database(self) -> None:
        try:
            self.db.serve(own_connection=True)
        finally:
            connection.close()  # this thread's own: a worker that stops gives it back at once

    def _run_loop(self, initial: list[int] | None = None) -> None:
        try:
            asyncio.run(self._main(initial))
        except Exception:
            logger.exception("the webhook sending loop stopped on an error")
            if initial is None and not self.stopping:
                # A worker whose engine is gone would take jobs and send nothing: stop it (warm), so that
                # its supervisor starts a fresh one; its claims and leases expire meanwhile.
                os.kill(os.getpid(), signal.SIGTERM)
        finally:
            self._done.set()
            if initial is not None:
                self.db.finish()  # deliver_once: the caller's thread stops serving

    async def _main(self, initial: list[int] | None) -> None:
        self.loop = asyncio.get_running_loop()
        self.client = Client()
        self.lanes = Lanes(healthy=conf.SENDER_MAX_IN_FLIGHT, troubled=conf.SENDER_TROUBLED_IN_FLIGHT)
        self.writer = Writer(self.db)
        self.acquirer = Batched(self.db, self._acquire_many)
        self.claimer = Batched(self.db, store.deliveries_claim)
        self.releaser = Batched(self.db, self._release_many)
        self._stopped = asyncio.Event()
        ticker = asyncio.create_task(self._tick())
        self._ready.set()
        try:
            if initial is not None:
                self.stopping = self.drain_on_stop = True  # one call: serve these, then end
                self._track(self._acquire(initial))
            else:
                await self._stopped.wait()
            while self._serving:
                await asyncio.gather(*list(self._serving), return_exceptions=True)
            await self.writer.flushed()
            if self.sent != self._heartbeat_sent:
                await asyncio.get_running_loop().run_in_executor(None, heartbeat)
        finally:
            ticker.cancel()
            await self.client.close()

    # --- on the loop -----------------------------------------------------------------------------

    def _wake(self, webhook_ids: list[int]) -> None:
        new = []
        for webhook_id in webhook_ids:
            endpoint = self.endpoints.get(webhook_id)
            if endpoint is None or endpoint.letting_go:
                if endpoint is not None:
                    endpoint.woken = True  # taken again once let go (its lease is being given back now)
                    continue
                new.append(webhook_id)
            else:
                endpoint.woken = True
                endpoint.changed.set()
        if new and not self.stopping:
            self._track(self._acquire(new))

    def _begin_stop(self, drain: bool) -> None:
        self.stopping = True
        self.drain_on_stop = drain
        for endpoint in self.endpoints.values():
            endpoint.changed.set()
        self._stopped.set()

    async def _acquire(self, webhook_ids: list[int]) -> None:
        wanted = [webhook_id for webhook_id in webhook_ids if webhook_id not in self.endpoints]
        answers = await asyncio.gather(*(self.acquirer.ask(webhook_id) for webhook_id in wanted))
        now = timezone.now()
        for acquired in answers:
            if acquired is None or acquired.webhook.pk in self.endpoints:
                continue  # another worker sends to it; it looks for new deliveries before it lets go
            endpoint = Endpoint(
                webhook=acquired.webhook,
                health=EndpointHealth.of(acquired.webhook),
                warm=acquired.warm,
                secrets=signing.signing_secrets(webhook=acquired.webhook, now=now),
                woken=True,
            )
            self.endpoints[endpoint.pk] = endpoint
            self._track(self._serve(endpoint))

    def _track(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._serving.add(task)
        task.add_done_callback(self._serving.discard)

    def _acquire_many(self, requests: dict[int, None]) -> dict[int, store.Acquired]:
        acquired = store.endpoints_acquire(owner=self.owner, webhook_ids=list(requests))
        return {item.webhook.pk: item for item in acquired}

    def _release_many(self, requests: dict[int, None]) -> dict[int, store.NextDue]:
        return {due.webhook_id: due for due in store.endpoints_release(owner=self.owner, webhook_ids=list(requests))}

    def _claim_size(self, endpoint: Endpoint) -> int:
        if endpoint.probing:
            return 0 if endpoint.claimed or endpoint.in_flight else 1
        # Enough to keep its window full while the next claim comes back: a batch for one answering well,
        # a couple of attempts for one that is new, troubled or slow (its claims must not age meanwhile).
        answering_well = endpoint.warm and not endpoint.health.troubled and not endpoint.slow
        target = min(conf.BATCH_SIZE, conf.BATCH_SIZE if answering_well else 2 * window(endpoint))
        # Claim again when it runs low, not after every answer: for one answering well, while half a batch
        # is left (the claim may wait behind a write, and a fast receiver empties a window in milliseconds).
        low = max(window(endpoint), target // 2) if answering_well else window(endpoint)
        if len(endpoint.claimed) >= min(target, low):
            return 0
        return target - len(endpoint.claimed)

    def _must_stop(self, endpoint: Endpoint) -> bool:
        if self.stopping and not self.drain_on_stop:
            return True
        if not endpoint.webhook.is_active or endpoint.health.cooling(timezone.now()):
            return True
        if self.max_deliveries is not None and self.started_attempts >= self.max_deliveries:
            self.out_of_bounds = True
        if self.max_seconds is not None and time.monotonic() - self.started >= self.max_seconds:
            self.out_of_bounds = True
        return self.out_of_bounds

    async def _serve(self, endpoint: Endpoint) -> None:
        """Keep the endpoint's window full while deliveries are due; then give everything back."""
        try:
            while True:
                endpoint.changed.clear()
                stop = self._must_stop(endpoint)
                if not stop:
                    self._start_attempts(endpoint)  # from what is claimed already: a claim may wait on the writer
                    await self._claim(endpoint)
                    self._start_attempts(endpoint)
                if endpoint.in_flight == 0 and (
                    stop or (not endpoint.claimed and endpoint.drained and not endpoint.woken)
                ):
                    break
                pause = pace_delay(endpoint, time.monotonic()) if endpoint.claimed else 0.0
                if pause:
                    await asyncio.sleep(pause)
                else:
                    await endpoint.changed.wait()
        except Exception:
            # The deliveries are safe in the database: the claims expire and the sweeper queues them.
            logger.exception("webhook %s: sending stopped on an error", endpoint.pk)
            while endpoint.in_flight:
                endpoint.changed.clear()
                await endpoint.changed.wait()
        finally:
            await self._let_go(endpoint)

    async def _claim(self, endpoint: Endpoint) -> None:
        want = self._claim_size(endpoint)
        if not want or (endpoint.drained and not endpoint.woken):
            return
        endpoint.woken = False
        claimed = await self.claimer.ask(endpoint.pk, want) or []
        now = time.monotonic()
        endpoint.claimed.extend((delivery, now) for delivery in claimed)
        endpoint.drained = len(claimed) < want

    def _start_attempts(self, endpoint: Endpoint) -> None:
        """Start attempts while the window, the lane and the pace allow."""
        while endpoint.claimed and endpoint.in_flight < window(endpoint) and not self._must_stop(endpoint):
            if pace_delay(endpoint, time.monotonic()):
                return
            which = lane(endpoint)
            if not self.lanes.has_room(which):
                # Full: wait for a place; an answer anywhere sets this endpoint's event too.
                self._lane_waiters.add(endpoint)
                return
            delivery, claimed_at = endpoint.claimed.popleft()
            if time.monotonic() - claimed_at > _claim_spare(endpoint):
                # Its claim may run out before the attempt is recorded: give it back rather than risk two senders.
                self.loop.create_task(self.db.call(store.deliveries_release, [delivery]))  # type: ignore[union-attr]
                continue
            self.lanes.take(which)
            endpoint.in_flight += 1
            endpoint.last_start = time.monotonic()
            task = asyncio.create_task(self._attempt(endpoint, delivery, which))
            self.started_attempts += 1
            self._attempts.add(task)
            task.add_done_callback(self._attempts.discard)

    def _lane_freed(self) -> None:
        """A place in a lane came free: the endpoints waiting for one look again."""
        waiting, self._lane_waiters = self._lane_waiters, set()
        for endpoint in waiting:
            endpoint.changed.set()

    async def _attempt(self, endpoint: Endpoint, delivery: Claimed, which: Lane) -> None:
        attempted_at = timezone.now()
        flight = _InFlight(endpoint, time.monotonic(), which)
        self._in_flight[id(flight)] = flight
        given_up = delivery.claims_without_attempt > conf.CLAIMS_WITHOUT_ATTEMPT_MAX
        try:
            result = _given_up(delivery) if given_up else await self._send(endpoint, delivery)
        finally:
            del self._in_flight[id(flight)]
            self.lanes.give_back(flight.lane)
            self._lane_freed()
        self._decide(
            endpoint, delivery, attempted_at, result, given_up=given_up, answered_in=time.monotonic() - flight.started
        )
        endpoint.in_flight -= 1
        self.sent += 1
        if not endpoint.letting_go:
            # The next one goes out now, on the connection just freed, not after every other answer that came in
            # with this one has been handled and the endpoint's own task has had its turn.
            self._start_attempts(endpoint)
        endpoint.changed.set()

    async def _send(self, endpoint: Endpoint, delivery: Claimed) -> TransportResult:
        """One signed POST; whatever raises on the way is a failed attempt with a readable error, not a crash."""
        started = time.monotonic()
        webhook = endpoint.webhook
        try:
            signed = signing.request_headers(
                msg_id=delivery.msg_id, timestamp=int(time.time()), body=delivery.body, secrets=endpoint.secrets
            )
            # The admin's headers first: ours win, though validation already refuses a custom one of those names.
            custom = {header["name"]: header["value"] for header in webhook.custom_headers}
            result = await self.client.post(
                url=webhook.url,
                body=delivery.body.encode(),
                headers={**custom, **signed},
                timeout=endpoint.health.attempt_timeout,
            )
            return replace(result, request_headers=signing.headers_for_log(signed, custom_names=list(custom)))
        except Exception as error:
            logger.exception("webhook %s delivery %s: the sender failed", webhook.pk, delivery.pk)
            return TransportResult(
                status_code=None,
                body=b"",
                error=f"Not sent: the sender failed ({type(error).__name__}).",
                duration_ms=int((time.monotonic() - started) * 1000),
                not_sent=True,
            )

    def _decide(
        self,
        endpoint: Endpoint,
        delivery: Claimed,
        attempted_at: Any,
        result: TransportResult,
        *,
        given_up: bool,
        answered_in: float,
    ) -> None:
        """The delivery's next state and the endpoint's health after this attempt; written by the writer."""
        healthy_before = not endpoint.health.troubled
        retry_at = None
        if result.succeeded:
            endpoint.health, transition = endpoint.health.after_success()
            endpoint.warm = True
        else:
            if not given_up:
                retry_in = _retry_in(result=result, attempts_made=delivery.attempt_count + 1, at=attempted_at)
                retry_at = None if retry_in is None else timezone.now() + timedelta(seconds=retry_in)
            endpoint.health, transition = endpoint.health.after_failure(
                at=attempted_at, now=timezone.now(), gone=result.status_code == 410, timed_out=result.timed_out
            )
            if transition is not None and transition.state == Webhook.State.DISABLED:
                endpoint.webhook.is_active = False
        if answered_in < conf.SLOW_ATTEMPT_SECONDS:
            endpoint.slow = False
        self.writer.add(
            store.Outcome(
                delivery=delivery,
                webhook=endpoint.webhook,
                attempted_at=attempted_at,
                result=result,
                retry_at=retry_at,
                health=endpoint.health,
                transition=transition,
                healthy_before=healthy_before and not given_up,
                given_up=given_up,
            )
        )

    async def _let_go(self, endpoint: Endpoint) -> None:
        """Give back unsent claims, wait for this endpoint's outcomes to be written, let go of its lease."""
        endpoint.letting_go, endpoint.woken = True, False
        unsent = [delivery for delivery, _ in endpoint.claimed]
        endpoint.claimed.clear()
        try:
            if unsent:
                await self.db.call(store.deliveries_release, unsent)
            await self.writer.flushed()
            next_due = await self.releaser.ask(endpoint.pk)
        except Exception:
            logger.exception("webhook %s: could not let go cleanly (its lease and claims expire)", endpoint.pk)
            next_due = None
        finally:
            self.endpoints.pop(endpoint.pk, None)
        if endpoint.woken and not self.stopping:
            self._wake([endpoint.pk])  # woken while it was being let go
            return
        if next_due is None or next_due.at is None:
            return
        if next_due.at <= timezone.now() and not self.stopping:
            self._wake([endpoint.pk])  # committed while we held it: on with it here
        else:
            when = max(next_due.at, timezone.now())
            self.loop.run_in_executor(None, _wake_later, endpoint.pk, when)  # type: ignore[union-attr]

    async def _tick(self) -> None:
        """Move attempts that went slow to the troubled lane; renew leases; refresh the endpoints; beat."""
        renewed = refreshed = time.monotonic()
        while True:
            await asyncio.sleep(TICK_SECONDS)
            now = time.monotonic()
            for flight in list(self._in_flight.values()):
                if flight.lane == Lane.HEALTHY and now - flight.started >= conf.SLOW_ATTEMPT_SECONDS:
                    flight.lane = Lane.TROUBLED
                    self.lanes.move_to_troubled()
                    flight.endpoint.slow = True
                    self._lane_freed()
            try:
                if self.endpoints and now - renewed >= conf.CLAIM_LEASE_SECONDS / 4:
                    renewed = now
                    await self.db.call(partial(store.endpoints_renew, owner=self.owner))
                if self.endpoints and now - refreshed >= REFRESH_EVERY_SECONDS:
                    refreshed = now
                    await self._refresh()
            except Exception:
                logger.exception("webhook sending: the endpoints held could not be renewed or refreshed")
            if self.sent != self._heartbeat_sent and now - self._heartbeat_at >= HEARTBEAT_EVERY_SECONDS:
                self._heartbeat_at, self._heartbeat_sent = now, self.sent
                self.loop.run_in_executor(None, heartbeat)  # type: ignore[union-attr]

    async def _refresh(self) -> None:
        fresh = await self.db.call(partial(store.webhooks_refresh, webhook_ids=list(self.endpoints)))
        now = timezone.now()
        for webhook_id, endpoint in list(self.endpoints.items()):
            webhook = fresh.get(webhook_id)
            if webhook is None:
                endpoint.webhook.is_active = False  # deleted: what is in flight ends, nothing more is sent
            else:
                endpoint.health.apply_to(webhook)  # ours is newer than what is written
                # Disabled here (410 Gone, days of failures) and not written yet: it stays off.
                webhook.is_active = webhook.is_active and endpoint.webhook.is_active
                endpoint.webhook = webhook
                endpoint.secrets = signing.signing_secrets(webhook=webhook, now=now)
            endpoint.changed.set()


def _claim_spare(endpoint: Endpoint) -> float:
    """How long a claimed delivery may wait to be sent: its claim must outlive the attempt and its recording."""
    return max(1.0, conf.CLAIM_LEASE_SECONDS - endpoint.health.attempt_timeout - 1)


def _given_up(delivery: Claimed) -> TransportResult:
    return TransportResult(
        status_code=None,
        body=b"",
        error=(
            f"Not sent again: the last {delivery.claims_without_attempt - 1} tries to send this notification "
            "ended with nothing on record (the worker sending it stopped mid-attempt each time). "
            "Resend it from the delivery log once the cause is fixed."
        ),
        duration_ms=0,
        not_sent=True,
    )


def _retry_in(*, result: TransportResult, attempts_made: int, at: Any) -> float | None:
    retry_after = (
        parse_retry_after(result.header("Retry-After"), now=at) if result.status_code in RETRY_AFTER_STATUSES else None
    )
    return retry_delay(
        attempts_made=attempts_made, schedule=conf.RETRY_SCHEDULE, jitter=conf.RETRY_JITTER, retry_after=retry_after
    )


def _wake_later(webhook_id: int, when: Any) -> None:
    if when <= timezone.now():
        webhook_wake(webhook_id=webhook_id)
    else:
        webhook_wake_at(webhook_id=webhook_id, when=when)


# The running worker's engine; None elsewhere (the web process, a job run by a plain rq worker or a test).
_current: Engine | None = None


def engine_start() -> Engine:
    global _current
    _current = Engine()
    _current.start()
    return _current


def engine_current() -> Engine | None:
    return _current


def engine_stop(*, timeout: float, drain: bool = False) -> bool:
    global _current
    engine, _current = _current, None
    return engine.stop(timeout=timeout, drain=drain) if engine is not None else True
