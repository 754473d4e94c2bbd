"""gunicorn's settings for DialogForm Hooks, read from the working directory by
`gunicorn dialogform_hooks.wsgi:application` (docs/deploy.md). Each one can be set from the environment.
"""

from __future__ import annotations

import os
from typing import Any

from dialogform_hooks.logging_config import FORMATTERS, log_format

# Behind the TLS proxy, on this machine: not reachable from elsewhere unless GUNICORN_BIND says so.
bind = os.environ.get("GUNICORN_BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
# Processes, and threads in each: a page that waits on a test's first attempt (up to 3 s) holds a
# thread, not a process.
workers = int(os.environ.get("WEB_CONCURRENCY", str(2 * (os.cpu_count() or 1) + 1)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# X-Forwarded-Proto is believed from these addresses only (the proxy).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# The proxy logs requests; set GUNICORN_ACCESS_LOG=- to have gunicorn write them too.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
# Restarts and reloads go through the supervisor (systemd: SIGHUP, SIGTERM); no socket left in $HOME.
control_socket_disable = True
logconfig_dict: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"chosen": FORMATTERS[log_format()]},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "chosen"}},
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["console"] if accesslog else [], "level": "INFO", "propagate": False},
    },
}


def on_starting(server: Any) -> None:
    # /metrics adds up the files every process keeps here; the directory is emptied when the machine
    # starts (docs/deploy.md), never here: the workers' files in it are in use.
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        os.makedirs(directory, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    # A web process that ended: its live gauges go; its counters stay counted (prometheus-client's rule).
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
