"""How the pages word what the sender recorded."""

from __future__ import annotations

from django import template

register = template.Library()

# What the sender writes before a reason of the connection's: the page says the reason alone.
_CONNECTION_PREFIX = "Connection failed: "


@register.filter
def readable_error(error: str) -> str:
    """An attempt's error as a sentence: "Connection refused." for "Connection failed: Connection refused"."""
    text = error.removeprefix(_CONNECTION_PREFIX).strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ")", "…")) else text + "."
