"""Settings for the worker and sweeper processes of the fault tests: the project's, plus JSON overrides."""

import json
import os

from tests.settings import *  # noqa: F403

# For example FAULT_SETTINGS='{"INTEGRATIONS_ATTEMPT_TIMEOUT": 1}'; FAULT_EXTRA_APPS adds test apps.
globals().update(json.loads(os.environ.get("FAULT_SETTINGS", "{}")))
INSTALLED_APPS = [*INSTALLED_APPS, *globals().get("FAULT_EXTRA_APPS", [])]  # noqa: F405
