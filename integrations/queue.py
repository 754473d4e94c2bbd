"""The queue wiring: the RQ queue of webhook jobs, and waking a webhook's job (after commit, from a thread
of its own, at most once while it waits, never fatal). Jobs are queued by dotted path, so that nothing
here imports the code they run.
"""

from __future__ import annotations

import atexit
import logging
import time
import uuid
from datetime import UTC, datetime
from functools import cache

import django_rq
from django.db import connection, transaction
from redis import ConnectionPool, Redis
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry
from rq import Queue
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job, JobStatus

from .background import BackgroundThread
from .conf import conf

logger = logging.getLogger(__name__)

# A webhook's "waiting for a worker" flag outlives a lost job only this long.
WAKE_FLAG_TTL_SECONDS = 300
# The job every wake queues (integrations.jobs imports the sending code, which imports this module).
DELIVER_JOB = "integrations.jobs.deliver_webhooks"


@cache
def webhooks_queue() -> Queue:
    """One queue object (and Redis connection) per process: django_rq.get_queue() opens one per call."""
    return django_rq.get_queue(conf.QUEUE)


def redis_connection() -> Redis:
    return webhooks_queue().connection


# An operator's probe (/healthz, /metrics) gives up on Redis after this long instead of hanging with it.
PROBE_TIMEOUT_SECONDS = 1.0


@cache
def redis_probe_connection() -> Redis:
    """The queue's Redis, with short timeouts: for questions an operator's check asks."""
    pool = redis_connection().connection_pool
    options = {
        **pool.connection_kwargs,
        "socket_timeout": PROBE_TIMEOUT_SECONDS,
        "socket_connect_timeout": PROBE_TIMEOUT_SECONDS,
        "retry_on_timeout": False,
        "retry": Retry(NoBackoff(), 0),
    }
    return Redis(connection_pool=ConnectionPool(connection_class=pool.connection_class, **options))


def forget_queue() -> None:
    """Drop the cached queue, for a changed RQ_QUEUES setting (tests) or after a fork.

    Its connections are closed, not left to the garbage collector (which warns of each unclosed socket).
    In a forked child, redis-py only resets the parent's pools, closing nothing of the parent's.
    """
    clients = []
    if webhooks_queue.cache_info().currsize:
        clients.append(webhooks_queue().connection)
    if redis_probe_connection.cache_info().currsize:
        clients.append(redis_probe_connection())
    webhooks_queue.cache_clear()
    redis_probe_connection.cache_clear()
    for client in clients:
        client.connection_pool.disconnect()


def _wake_flag(webhook_id: int) -> str:
    return f"integrations:webhook:{webhook_id}:queued"


def webhook_wake(*, webhook_id: int) -> None:
    """Queue the job that sends this webhook's due deliveries, unless one is already waiting."""
    webhooks_wake(webhook_ids=[webhook_id])


def webhooks_wake(*, webhook_ids: list[int]) -> None:
    """Queue one job that wakes the sender for these webhooks, leaving out those whose job already waits.

    One job for every webhook of a transaction (a bulk delete, a backlog committed at once): a
    worker's engine takes them all at once. Redis trouble is logged, not raised: the deliveries
    are safe in the database and the sweeper re-enqueues what is due.
    """
    if not webhook_ids:
        return
    job_id = f"integrations-webhooks-{uuid.uuid4().hex}"
    try:
        # The flags name the job, so that the sweeper can tell a waiting job from a lost one.
        connection = redis_connection()
        if len(webhook_ids) == 1:  # the common case (one change), on the request's path: no pipeline
            flags = [connection.set(_wake_flag(webhook_ids[0]), job_id, nx=True, ex=WAKE_FLAG_TTL_SECONDS)]
        else:
            pipeline = connection.pipeline(transaction=False)
            for webhook_id in webhook_ids:
                pipeline.set(_wake_flag(webhook_id), job_id, nx=True, ex=WAKE_FLAG_TTL_SECONDS)
            flags = pipeline.execute()
        waking = [webhook_id for webhook_id, flagged in zip(webhook_ids, flags, strict=True) if flagged]
        if waking:
            # rq's commands for the job in one pipeline: one round trip (on its own, rq makes two).
            enqueue = connection.pipeline(transaction=False)
            webhooks_queue().enqueue_call(
                DELIVER_JOB, args=(waking,), job_id=job_id, result_ttl=0, failure_ttl=86400, pipeline=enqueue
            )
            enqueue.execute()
    except RedisError as error:
        logger.warning("Could not queue webhooks %s (%s); the sweeper will pick them up.", webhook_ids[:10], error)


def webhook_ensure_queued(*, webhook_id: int) -> bool:
    """Queue the webhook's job unless one is really waiting for a worker; True when it queued one.

    For the sweeper: a flag whose job was lost (Redis flushed or restarted, a failed enqueue)
    is cleared and the job queued again.
    """
    connection = redis_connection()
    flag = connection.get(_wake_flag(webhook_id))
    if flag is not None:
        job_id = flag.decode() if isinstance(flag, bytes) else str(flag)
        try:
            job: Job | None = Job.fetch(job_id, connection=connection)
            # The job may finish and be deleted between the two reads (its result is not kept).
            status = job.get_status() if job is not None else None
        except (NoSuchJobError, InvalidJobOperation):
            job, status = None, None
        if status in {JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED} or (
            status == JobStatus.QUEUED and not _waited_too_long(job)
        ):
            return False
        connection.delete(_wake_flag(webhook_id))
    webhook_wake(webhook_id=webhook_id)
    return True


def _waited_too_long(job: Job | None) -> bool:
    """A job queued this long is presumed lost and queued again (a second job finds nothing to do).

    A worker killed while it waits for a job can leave its read open in Redis (its scheduler
    child, forked from it, holds the socket): Redis then hands the next job to a dead reader.
    """
    enqueued_at = job.enqueued_at if job is not None else None
    if enqueued_at is None:
        return False
    waited = datetime.now(UTC) - enqueued_at.replace(tzinfo=UTC)
    return waited.total_seconds() > conf.QUEUED_JOB_STALE_SECONDS


def webhook_wake_at(*, webhook_id: int, when: datetime) -> None:
    """Queue the job for when the next retry is due (rq's scheduler runs in the worker)."""
    # One job id per webhook and second: several failures due at once schedule one job.
    job_id = f"integrations-webhook-{webhook_id}-at-{int(when.timestamp())}"
    try:
        webhooks_queue().enqueue_at(when, DELIVER_JOB, [webhook_id], job_id=job_id, result_ttl=0)
    except RedisError as error:
        logger.warning("Could not schedule webhook %s (%s); the sweeper will pick it up.", webhook_id, error)


def webhooks_job_started(*, webhook_ids: list[int]) -> None:
    """Clear the waiting flags, so that events committed from now on queue a fresh job."""
    try:
        redis_connection().delete(*[_wake_flag(webhook_id) for webhook_id in webhook_ids])
    except RedisError as error:
        logger.warning("Could not clear the queued flags of webhooks %s (%s).", webhook_ids[:10], error)


def webhook_job_started(*, webhook_id: int) -> None:
    webhooks_job_started(webhook_ids=[webhook_id])


# Wake-ups a process keeps waiting for its waking thread; past this they are left to the sweeper.
WAKES_WAITING_MAX = 10_000
# Seconds a stopping process waits for its wake-ups to reach Redis.
WAKES_EXIT_WAIT_SECONDS = 5.0


def _wake_batch(batch: list[list[int]]) -> None:
    webhooks_wake(webhook_ids=sorted({webhook_id for webhook_ids in batch for webhook_id in webhook_ids}))


# Committed changes wake the workers from this thread, not from the request that committed: a slow or
# unreachable Redis then delays no page, and wake-ups committed together go as one job.
_waker: BackgroundThread[list[int]] = BackgroundThread("integrations-wakes", _wake_batch, lambda: WAKES_WAITING_MAX)


def webhooks_wake_soon(*, webhook_ids: list[int]) -> None:
    """Wake these webhooks from the waking thread, without waiting for Redis."""
    if webhook_ids and not _waker.put(list(webhook_ids)):
        logger.warning("Could not queue webhooks %s (too many waiting); the sweeper will pick them up.", webhook_ids)


def wakes_sent(timeout: float = WAKES_EXIT_WAIT_SECONDS) -> bool:
    """Wait until the wake-ups of changes committed so far reached Redis: a stopping process, tests."""
    return _waker.wait_done(timeout)


@atexit.register
def _wake_before_exit() -> None:
    if not wakes_sent():
        logger.warning("the process stopped with wake-ups not yet queued; the sweeper will pick them up")


class _PendingWakes:
    """Webhooks to wake when the current transaction commits: one callback, however many events."""

    def __init__(self) -> None:
        self.webhook_ids: set[int] = set()

    def __call__(self) -> None:
        webhooks_wake_soon(webhook_ids=list(self.webhook_ids))  # the waking thread sorts each batch


def webhooks_wake_on_commit(*, webhook_ids: list[int]) -> None:
    if not webhook_ids:
        return
    if not connection.in_atomic_block:
        webhooks_wake_soon(webhook_ids=webhook_ids)
        return
    # Reuse the callback already registered in this transaction (a bulk delete of 1,000 objects
    # then costs one wake per webhook, not 1,000); a rolled-back savepoint drops it with its rows.
    pending = next(
        (entry[1] for entry in reversed(connection.run_on_commit) if isinstance(entry[1], _PendingWakes)),
        None,
    )
    if pending is None:
        pending = _PendingWakes()
        # robust: a failing hand-over is logged and never turns a committed save into an error.
        transaction.on_commit(pending, robust=True)
    pending.webhook_ids.update(webhook_ids)


# When a worker of any machine last sent (Unix time): what /healthz reads as the workers' heartbeat.
LAST_SENT_KEY = "integrations:worker:last-job-finished"


def heartbeat() -> None:
    """Note that this worker sends (for /healthz and /metrics); never fatal."""
    try:
        redis_connection().set(LAST_SENT_KEY, repr(time.time()))
    except RedisError as error:
        logger.debug("could not note the worker's heartbeat (%s)", error)
