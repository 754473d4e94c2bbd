"""Model signals of the host product (the models its event types name), each turned into a call to the outbox."""

from __future__ import annotations

import logging
from typing import Any

from django.apps import apps
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from . import catalog, outbox, webhooks
from .adapter import subscribable
from .models import Webhook


def on_pre_save(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if not raw:
        outbox.instance_before_save(instance=instance)


def on_post_save(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    if not raw:  # fixtures being loaded are not news
        outbox.instance_after_save(instance=instance)


def on_post_delete(sender: Any, instance: Any, origin: Any = None, **kwargs: Any) -> None:
    outbox.instance_after_delete(instance=instance, origin=origin)


def on_webhook_pre_delete(sender: Any, instance: Webhook, **kwargs: Any) -> None:
    webhooks.webhook_before_delete(webhook=instance)


def connect() -> None:
    pre_delete.connect(on_webhook_pre_delete, sender=Webhook, dispatch_uid="integrations.webhook_pre_delete")
    try:
        types = subscribable()
        models = {
            (apps.get_model(event_type.trigger.model), type(event_type.trigger))
            for event_type in types
            if event_type.trigger is not None
        }
    except Exception as error:
        logging.getLogger(__name__).error("integrations: the host's models are not connected: %s", error)
        return
    for model, kind in models:
        label = model._meta.label_lower
        if kind is catalog.OnSave:
            pre_save.connect(on_pre_save, sender=model, dispatch_uid=f"integrations.pre_save.{label}")
            post_save.connect(on_post_save, sender=model, dispatch_uid=f"integrations.post_save.{label}")
        else:
            post_delete.connect(on_post_delete, sender=model, dispatch_uid=f"integrations.post_delete.{label}")
