"""Runs the sweeper: re-queues stranded deliveries and prunes the delivery log (loops; --once for one pass)."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from integrations.conf import conf
from integrations.sweeper import sweep

PRUNE_EVERY_SECONDS = 600.0
logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Re-queue webhook deliveries whose job was lost, and prune the log after the retention period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Do one pass and exit.")
        parser.add_argument("--interval", type=float, help=f"Seconds between passes (default {conf.SWEEP_INTERVAL:g}).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["once"]:
            outcome = sweep()
            if outcome.skipped:
                self.stdout.write("another sweeper is doing a pass; nothing done")
                return
            self.stdout.write(
                f"requeued {outcome.requeued} webhook job(s); pruned {outcome.events_pruned} event(s) "
                f"and {outcome.attempts_pruned} attempt(s)"
            )
            return
        interval = options["interval"] or conf.SWEEP_INTERVAL
        self.stdout.write(f"Sweeping every {interval:g} s (Ctrl-C to stop)")
        self.stdout.flush()
        last_prune = 0.0
        backlog = False
        try:
            while True:
                close_old_connections()
                prune = backlog or time.monotonic() - last_prune >= PRUNE_EVERY_SECONDS
                try:
                    outcome = sweep(prune=prune)
                except Exception as error:
                    # Nothing that goes wrong in one pass (the database, Redis, a job deleted under it) may end the
                    # sweeper: it is what re-queues what was lost. Logged with its traceback; the next pass tries again.
                    logger.exception("sweep failed")
                    self.stderr.write(f"sweep failed: {type(error).__name__}: {error}")
                    backlog = False
                else:
                    if prune:
                        last_prune = time.monotonic()
                    # More past retention than a pass deletes: prune again at once, until caught up.
                    backlog = prune and outcome.prune_backlog
                if not backlog:
                    time.sleep(interval)
        except KeyboardInterrupt:
            pass
