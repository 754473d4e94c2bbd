"""Settings of the test suite: the project's, with a key of the suite's own (the project refuses to run without one)."""

import os
import secrets

os.environ.setdefault("SECRET_KEY", f"tests-only-{secrets.token_urlsafe(48)}")

from dialogform_hooks.settings import *  # noqa: F403

# Static files straight from the apps (no `collectstatic` before the suite), for the test client and live servers.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# What the suite's shared fixtures make objects with (tests/conftest.py).
TEST_HOST_OBJECTS = "tests.host.objects.DialogFormObjects"
