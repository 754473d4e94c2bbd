"""The engine's bridge between its loop and its database thread.

- `DatabaseSide`: calls from the loop, run one after another on the thread that serves them, each
  answer (or exception) handed back to the loop;
- `Batched`: requests of many endpoints to one store function, sent together (while one call runs,
  the next gathers): claims, leases taken and let go;
- `Writer`: the attempts' outcomes, written in order and in batches by `store.outcomes_record`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import close_old_connections

from ..conf import conf
from . import store

logger = logging.getLogger(__name__)

T = TypeVar("T")

# How long the writer lets outcomes gather before it writes them.
WRITE_GATHER_SECONDS = 0.05


class DatabaseSide:
    """Calls from the loop, run one after another on the thread that serves them (`serve`)."""

    def __init__(self) -> None:
        self.calls: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...], asyncio.Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self.checked_at = 0.0

    async def call(self, function: Callable[..., T], *args: Any) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self.calls.put((function, args, future))
        return await future

    def serve(self, *, own_connection: bool) -> None:
        """Run calls until `finish`; each call's answer (or exception) goes back to the loop.

        `own_connection`: this thread's connection is the sender's alone (not a caller's, in its transaction).
        """
        while (item := self.calls.get()) is not None:
            function, args, future = item
            now = time.monotonic()
            if own_connection and now - self.checked_at > 1.0:
                # A worker lives long: drop a connection that broke or outlived CONN_MAX_AGE.
                close_old_connections()
                self.checked_at = now
            try:
                value = function(*args)
            except BaseException as error:
                future.get_loop().call_soon_threadsafe(settle, future, None, error)
            else:
                future.get_loop().call_soon_threadsafe(settle, future, value, None)

    def finish(self) -> None:
        self.calls.put(None)


def settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


class Batched:
    """Requests of many endpoints to one store function, sent together: while a call runs, the next gathers.

    `function(requests: dict[key, argument]) -> dict[key, answer]`.
    """

    def __init__(self, db: DatabaseSide, function: Callable[[dict[Any, Any]], dict[Any, Any]]) -> None:
        self.db = db
        self.function = function
        self.waiting: dict[Any, tuple[Any, list[asyncio.Future[Any]]]] = {}
        self.running = False

    async def ask(self, key: Any, argument: Any = None) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        previous = self.waiting.get(key)
        self.waiting[key] = (argument, [*(previous[1] if previous else []), future])
        if not self.running:
            self.running = True
            asyncio.get_running_loop().create_task(self._run())
        return await future

    async def _run(self) -> None:
        try:
            while self.waiting:
                batch, self.waiting = self.waiting, {}
                try:
                    answers = await self.db.call(self.function, {key: argument for key, (argument, _) in batch.items()})
                except Exception as error:
                    for _, futures in batch.values():
                        for future in futures:
                            settle(future, None, error)
                    continue
                for key, (_, futures) in batch.items():
                    for future in futures:
                        settle(future, answers.get(key), None)
        finally:
            self.running = False


class Writer:
    """Outcomes written in order, in batches: one transaction for all that finished since the last write."""

    def __init__(self, db: DatabaseSide) -> None:
        self.db = db
        self.pending: list[store.Outcome] = []
        self.added = 0
        self.written = 0
        self.wrote = asyncio.Condition()
        self.hurry = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def add(self, outcome: store.Outcome) -> None:
        self.pending.append(outcome)
        self.added += 1
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        # A moment for the answers arriving together to come in first: the write runs once the loop has
        # handled them (they share one interpreter lock), in one transaction rather than several. Not
        # when something waits for the write (an endpoint being let go).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.hurry.wait(), WRITE_GATHER_SECONDS)
        self.hurry.clear()
        while self.pending:
            batch, self.pending = self.pending[: conf.LEDGER_SIZE], self.pending[conf.LEDGER_SIZE :]
            try:
                await self.db.call(store.outcomes_record, batch)
            except Exception:
                # Left claimed: the claims expire and the deliveries are sent again (at least once).
                logger.exception("%s webhook attempts could not be recorded", len(batch))
            async with self.wrote:
                self.written += len(batch)
                self.wrote.notify_all()

    async def flushed(self) -> None:
        """Return once every outcome added so far is written."""
        target = self.added
        if self.written < target:
            self.hurry.set()
        async with self.wrote:
            await self.wrote.wait_for(lambda: self.written >= target)
