"""The sweeper finds deliveries whose job was lost, and prunes the log after the retention period."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from integrations.models import Delivery, DeliveryAttempt, Event, Webhook
from integrations.queue import wakes_sent, webhook_ensure_queued, webhook_wake, webhooks_queue
from integrations.sweeper import deliveries_requeue_stranded, log_prune, sweep
from tests.testhost.models import Team, Ticket
from tests.testhost.objects import close

pytestmark = pytest.mark.django_db(transaction=True)


def stranded(account: Team, count: int) -> None:
    """Deliveries due a minute ago, whose wake-ups Redis lost."""
    for number in range(count):
        close(Ticket.objects.create(team=account, reference=f"s{number}"))
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=1))
    assert wakes_sent(10)  # their wake-ups reached Redis, and are lost with it
    webhooks_queue().connection.flushall()


def test_a_flushed_redis_strands_nothing(
    account: Team, webhook: Webhook, receiver: Any, run_worker: Callable[[], None]
) -> None:
    stranded(account, 3)
    run_worker()
    assert len(receiver.log) == 0  # nothing in Redis any more
    assert deliveries_requeue_stranded() == 1  # one job for the webhook
    run_worker()
    assert len(receiver.log) == 3
    assert deliveries_requeue_stranded() == 0


def test_a_job_still_waiting_is_not_queued_twice(account: Team, webhook: Webhook) -> None:
    stranded(account, 1)
    assert webhook_ensure_queued(webhook_id=webhook.pk) is True
    assert webhook_ensure_queued(webhook_id=webhook.pk) is False
    assert deliveries_requeue_stranded() == 0
    assert webhooks_queue().count == 1


def test_a_flag_whose_job_vanished_is_replaced(account: Team, webhook: Webhook) -> None:
    stranded(account, 1)
    webhook_wake(webhook_id=webhook.pk)
    webhooks_queue().empty()  # the job is gone, its "queued" flag is not
    assert webhook_ensure_queued(webhook_id=webhook.pk) is True
    assert webhooks_queue().count == 1


def test_a_job_deleted_between_its_two_reads_is_replaced(
    account: Team, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job that finishes (and, its result not kept, is deleted) while the sweeper looks at it: rq then says
    "Failed to retrieve status" rather than "no such job". The race, made certain on the real Redis."""
    from rq.job import Job

    stranded(account, 1)
    webhook_wake(webhook_id=webhook.pk)
    fetch = Job.fetch

    def fetch_then_finish(job_id: str, connection: Any, **kwargs: Any) -> Job:
        job = fetch(job_id, connection=connection, **kwargs)
        connection.delete(job.key)  # the worker finished it and rq deleted it, just now
        return job

    monkeypatch.setattr(Job, "fetch", staticmethod(fetch_then_finish))
    assert webhook_ensure_queued(webhook_id=webhook.pk) is True


def test_a_job_queued_too_long_is_presumed_swallowed_and_queued_again(
    account: Team, webhook: Webhook, settings: Any
) -> None:
    # A killed worker's read can outlive it in Redis (its forked scheduler holds the socket) and
    # take the next job into rq's intermediate list, where nobody runs it.
    stranded(account, 1)
    assert webhook_ensure_queued(webhook_id=webhook.pk) is True
    settings.INTEGRATIONS_QUEUED_JOB_STALE_SECONDS = 0.2
    assert webhook_ensure_queued(webhook_id=webhook.pk) is False  # still young
    time.sleep(0.3)
    assert webhook_ensure_queued(webhook_id=webhook.pk) is True
    assert webhooks_queue().count == 2  # a second job is harmless: it finds its webhook's sender busy or done


def test_claimed_recent_inactive_and_cooling_down_deliveries_are_left_alone(
    account: Team, webhook: Webhook, settings: Any
) -> None:
    stranded(account, 1)
    Delivery.objects.update(claimed_until=timezone.now() + timedelta(seconds=30))
    assert deliveries_requeue_stranded() == 0
    Delivery.objects.update(claimed_until=timezone.now() - timedelta(seconds=1))  # the claim expired
    Webhook.objects.filter(pk=webhook.pk).update(breaker_open_until=timezone.now() + timedelta(minutes=1))
    assert deliveries_requeue_stranded() == 0
    Webhook.objects.filter(pk=webhook.pk).update(breaker_open_until=None, is_active=False)
    assert deliveries_requeue_stranded() == 0
    Webhook.objects.filter(pk=webhook.pk).update(is_active=True)
    Delivery.objects.update(next_attempt_at=timezone.now())  # due, but its own wake-up may be on its way
    assert deliveries_requeue_stranded() == 0
    settings.INTEGRATIONS_SWEEP_GRACE = 0
    assert deliveries_requeue_stranded() == 1


def test_old_events_and_attempts_are_pruned_in_batches(
    account: Team, webhook: Webhook, receiver: Any, run_worker: Callable[[], None], settings: Any
) -> None:
    settings.INTEGRATIONS_PRUNE_BATCH = 2
    for number in range(5):
        close(Ticket.objects.create(team=account, reference=f"p{number}"))
    run_worker()
    old = timezone.now() - timedelta(days=31)
    Event.objects.update(created_at=old)
    DeliveryAttempt.objects.update(attempted_at=old)
    pending = Event.objects.first()
    assert pending is not None
    Delivery.objects.filter(event=pending).update(status=Delivery.Status.PENDING)
    close(Ticket.objects.create(team=account, reference="recent"))
    run_worker()

    assert log_prune(max_batches=1) == (2, 2)  # bounded
    log_prune()
    assert log_prune() == (0, 0)
    assert set(Event.objects.values_list("id", flat=True)) == {pending.id, Event.objects.latest("created_at").id}
    assert DeliveryAttempt.objects.count() == 1  # the recent one


def test_sweep_goes_on_when_redis_is_down(account: Team, webhook: Webhook, settings: Any) -> None:
    from integrations.queue import forget_queue
    from integrations.testing import free_port

    stranded(account, 1)
    settings.RQ_QUEUES = {"webhooks": {"URL": f"redis://127.0.0.1:{free_port()}/0"}}
    forget_queue()
    Event.objects.update(created_at=timezone.now() - timedelta(days=40))
    Delivery.objects.update(status=Delivery.Status.SUCCEEDED)
    outcome = sweep()
    assert (outcome.requeued, outcome.events_pruned) == (0, 1)


def test_the_command_does_one_pass_with_once(account: Team, webhook: Webhook) -> None:
    stranded(account, 2)
    out = io.StringIO()
    call_command("sweep_webhooks", "--once", stdout=out)
    assert out.getvalue().strip() == "requeued 1 webhook job(s); pruned 0 event(s) and 0 attempt(s)"
    assert webhooks_queue().count == 1


def test_pruning_takes_the_endpoints_counts_past_retention_and_says_when_more_is_left(
    account: Team, webhook: Webhook, receiver: Any, run_worker: Callable[[], None], settings: Any
) -> None:
    from integrations.models import EndpointDurations, EndpointHour
    from integrations.sweeper import PRUNE_BATCHES, SweepResult

    for number in range(3):
        close(Ticket.objects.create(team=account, reference=f"c{number}"))
    run_worker()
    assert EndpointHour.objects.get(webhook=webhook).attempts == 3
    EndpointHour.objects.update(hour=timezone.now() - timedelta(days=31))
    EndpointDurations.objects.update(hour=timezone.now() - timedelta(days=31))
    log_prune()
    assert not EndpointHour.objects.exists() and not EndpointDurations.objects.exists()

    settings.INTEGRATIONS_PRUNE_BATCH = 2
    assert SweepResult(events_pruned=PRUNE_BATCHES * 2).prune_backlog
    assert not SweepResult(events_pruned=PRUNE_BATCHES * 2 - 1, attempts_pruned=3).prune_backlog


def test_the_sweeper_outlives_a_pass_that_fails_for_any_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever one pass raises (here an rq error, as a job deleted under it once raised), the loop goes on.
    The pass is replaced because such a failure cannot be caused on demand; the second call ends the loop."""
    from rq.exceptions import InvalidJobOperation

    from integrations.management.commands import sweep_webhooks

    calls = []

    def failing_then_stop(**kwargs: Any) -> Any:
        calls.append(kwargs)
        if len(calls) == 1:
            raise InvalidJobOperation("Failed to retrieve status for job: x")
        raise KeyboardInterrupt  # how an operator stops it

    monkeypatch.setattr(sweep_webhooks, "sweep", failing_then_stop)
    errors = io.StringIO()
    call_command("sweep_webhooks", interval=0.01, stdout=io.StringIO(), stderr=errors)
    assert len(calls) == 2
    assert "sweep failed: InvalidJobOperation" in errors.getvalue()
