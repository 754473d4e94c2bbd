"""Settings for the worker and sweeper processes of the fault tests: the project's, plus JSON overrides."""

import json
import os

from tests.settings import *  # noqa: F403

# For example FAULT_SETTINGS='{"INTEGRATIONS_ATTEMPT_TIMEOUT": 1}'.
globals().update(json.loads(os.environ.get("FAULT_SETTINGS", "{}")))
