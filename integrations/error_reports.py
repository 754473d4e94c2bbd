"""Error reports (the debug page, the emails to ADMINS) that never show a signing secret."""

from __future__ import annotations

import re
from typing import Any

from django.views.debug import SafeExceptionReporterFilter

from .models import SECRET_PREFIX


class SecretsHidingFilter(SafeExceptionReporterFilter):
    """Django's filter, plus: any local variable named like a secret, or holding one, is hidden.

    `sensitive_variables` covers our own functions; this also covers the frames of libraries
    (standardwebhooks keeps the key in `whsecret`) and variables nobody thought to mark.
    """

    hidden_variables = re.compile(r"secret|signature|password|token", flags=re.IGNORECASE)

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        variables = super().get_traceback_frame_variables(request, tb_frame)
        return [
            (name, self.cleansed_substitute if self._holds_secret(name, value) else value) for name, value in variables
        ]

    def _holds_secret(self, name: str, value: Any) -> bool:
        if self.hidden_variables.search(name):
            return True
        try:
            return SECRET_PREFIX in repr(value)
        except Exception:  # a broken repr must not break the error report
            return False
