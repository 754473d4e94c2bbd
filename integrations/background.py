"""One thread per process that does work handed over after a commit, so that the thread that commits never waits.

Two use it: the app's signals (a slow receiver, a mail server that hangs, delays no attempt and no
page) and the wake-ups of the sending workers (a slow or unreachable Redis delays no request).
Items are handed over without waiting; the thread takes everything waiting at once and hands it to
`handle` as one batch, in the order it was put.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import connections

logger = logging.getLogger(__name__)

Item = TypeVar("Item")


class BackgroundThread(Generic[Item]):
    """Items waiting (at most `maxsize()`), and the one thread of this process that handles them."""

    def __init__(self, name: str, handle: Callable[[list[Item]], None], maxsize: Callable[[], int]) -> None:
        self.name = name
        self._handle = handle
        self._maxsize = maxsize
        self._queue: queue.Queue[Item] | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def put(self, item: Item) -> bool:
        """Hand the item to the thread; never waits. False when `maxsize()` items wait already (the caller logs)."""
        try:
            self._started().put_nowait(item)
        except queue.Full:
            return False
        return True

    def wait_done(self, timeout: float) -> bool:
        """Wait until every item put so far was handled; True when they all were within `timeout`."""
        waiting = self._queue
        if waiting is None or self._pid != os.getpid():
            return True
        with waiting.all_tasks_done:
            return waiting.all_tasks_done.wait_for(lambda: not waiting.unfinished_tasks, timeout=timeout)

    def _started(self) -> queue.Queue[Item]:
        with self._lock:
            # A forked process (a web server's worker) has the queue but not the thread: it starts its own.
            if self._queue is None or self._pid != os.getpid():
                self._queue = queue.Queue(maxsize=self._maxsize())
                self._pid = os.getpid()
                threading.Thread(target=self._run, args=(self._queue,), name=self.name, daemon=True).start()
            return self._queue

    def _run(self, waiting: queue.Queue[Item]) -> None:
        while True:
            batch = [waiting.get()]
            while True:
                try:
                    batch.append(waiting.get_nowait())
                except queue.Empty:
                    break
            try:
                self._handle(batch)
            except Exception:  # a bug of ours: the thread must go on with the next ones
                logger.exception("%s: %s items could not be handled", self.name, len(batch))
            finally:
                if waiting.empty():
                    # The handler may have opened this thread's database connection: not kept while idle.
                    connections.close_all()
                for _ in batch:
                    waiting.task_done()
