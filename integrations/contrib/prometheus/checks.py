"""The Prometheus part's system check."""

from __future__ import annotations

import os
from typing import Any

from django.core import checks

from ...conf import conf
from .metrics import MULTIPROCESS_DIR_VARIABLE


def check_multiprocess_dir(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    directory = os.environ.get(MULTIPROCESS_DIR_VARIABLE, "")
    if conf.METRICS_TOKEN and not os.path.isdir(directory):
        # Each process would count on its own: /metrics would show the web process's counters, not the workers'.
        return [
            checks.Warning(
                f"/metrics is on but {MULTIPROCESS_DIR_VARIABLE} is "
                + (f"not a directory ({directory!r})." if directory else "unset.")
                + " The workers' counters would not reach it.",
                hint=f"Set {MULTIPROCESS_DIR_VARIABLE} to the same existing, writable directory for every web "
                "and worker process of the machine (see docs/deploy.md, 'Metrics').",
                id="integrations.W017",
            )
        ]
    return []
