"""Connects a receiver that notes each signal in FAULT_SIGNAL_LOG, then sleeps (a host calling a slow service)."""

from __future__ import annotations

import time
from typing import Any

from django.apps import AppConfig
from django.conf import settings


def slow_receiver(sender: Any, signal: Any, **kwargs: Any) -> None:
    webhook = kwargs.get("webhook")
    with open(settings.FAULT_SIGNAL_LOG, "a") as log:
        log.write(f"{getattr(webhook, 'pk', '')} {time.time()}\n")
    time.sleep(settings.FAULT_SIGNAL_SLEEP)


class SlowReceiverConfig(AppConfig):
    name = "tests.faults.slow_receiver"
    label = "fault_slow_receiver"

    def ready(self) -> None:
        from integrations.models import Delivery, Webhook
        from integrations.signals import delivery_failed, webhook_failing

        webhook_failing.connect(slow_receiver, sender=Webhook, dispatch_uid="fault.slow.failing")
        delivery_failed.connect(slow_receiver, sender=Delivery, dispatch_uid="fault.slow.failed")
