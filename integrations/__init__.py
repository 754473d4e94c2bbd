"""Webhook notifications for a Django product: outbox, signed delivery, retries and the Integrations page."""

__version__ = "0.2.0"
