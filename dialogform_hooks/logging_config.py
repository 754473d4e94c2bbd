"""How every process logs (web, workers, sweeper, gunicorn's own lines): plain lines, or JSON lines.

LOG_FORMAT=json writes one JSON object per line with the fields each line carries (the delivery
lines' endpoint_id, delivery_id, msg_id, outcome, status_code, duration_ms), for a log search.
Free of Django, so that gunicorn's configuration can use it before Django starts.
"""

from __future__ import annotations

import os
from typing import Any

from pythonjsonlogger.core import RESERVED_ATTRS

LOG_FORMATS = ("plain", "json")


def log_format() -> str:
    chosen = os.environ.get("LOG_FORMAT", "plain") or "plain"
    if chosen not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {chosen!r}")
    return chosen


FORMATTERS: dict[str, dict[str, Any]] = {
    "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    "json": {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": ["levelname", "name", "message"],
        "rename_fields": {"levelname": "level", "name": "logger"},
        "timestamp": "time",
        # Django's request lines carry the request object itself: its text says nothing a search needs.
        "reserved_attrs": [*RESERVED_ATTRS, "request", "server_time"],
    },
}


def logging_config(*, loggers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A `logging.config.dictConfig` dictionary: one console handler in the chosen format, on the root."""
    chosen = log_format()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {chosen: FORMATTERS[chosen]},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": chosen}},
        "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
        "loggers": loggers,
    }
