"""Webhook notifications for DialogForm: outbox, signed delivery, retries and the Integrations page."""

__version__ = "0.1.0"
