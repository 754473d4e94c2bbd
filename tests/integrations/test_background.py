"""The thread that does what a commit hands over: it never makes the putter wait, and takes what waits as one batch."""

from __future__ import annotations

import threading
import time

from integrations.background import BackgroundThread


def test_items_put_while_the_thread_is_busy_are_handled_together_in_order() -> None:
    busy, batches = threading.Event(), []

    def handle(batch: list[int]) -> None:
        batches.append(batch)
        busy.wait(10)  # the first batch holds the thread (a Redis that is slow to answer)

    worker = BackgroundThread("test-background", handle, lambda: 100)
    worker.put(1)
    deadline = time.monotonic() + 5
    while not batches:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    started = time.monotonic()
    for item in (2, 3, 4):
        assert worker.put(item)
    assert time.monotonic() - started < 1  # never waited for the busy thread
    assert not worker.wait_done(0.1)
    busy.set()
    assert worker.wait_done(10)
    assert batches == [[1], [2, 3, 4]]


def test_a_full_queue_refuses_without_waiting_and_a_failing_handler_does_not_stop_the_thread() -> None:
    release, handled = threading.Event(), []

    def handle(batch: list[int]) -> None:
        release.wait(10)
        if 0 in batch:
            raise RuntimeError("a bug in a handler")
        handled.extend(batch)

    worker = BackgroundThread("test-background-full", handle, lambda: 1)
    assert worker.put(0)
    deadline = time.monotonic() + 5
    while worker._queue is not None and not worker._queue.empty():  # until the thread has taken it
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert worker.put(1)  # waits in the queue
    assert not worker.put(2)  # full: refused at once, the caller says what is lost
    release.set()
    assert worker.wait_done(10)
    assert handled == [1]  # the batch that raised was logged; the next one was handled
