"""The production settings refuse unsafe configurations before anything starts."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

# The database plays no part: settings checked in processes of their own, without a database.
pytestmark = pytest.mark.once

ROOT = Path(__file__).resolve().parents[2]
KEY = secrets.token_urlsafe(60)


def check(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("INTEGRATIONS_", "DEBUG", "SECRET_KEY"))}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "dialogform_hooks.settings_production", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_deploy_check_passes_with_a_secret_key() -> None:
    done = check(SECRET_KEY=KEY, ALLOWED_HOSTS="hooks.example.com")
    assert done.returncode == 0, done.stderr


def test_a_missing_secret_key_refuses_to_start() -> None:
    done = check(ALLOWED_HOSTS="hooks.example.com")
    assert done.returncode != 0
    assert "Set SECRET_KEY" in done.stderr


def test_private_urls_refuse_to_start_in_production() -> None:
    done = check(SECRET_KEY=KEY, ALLOWED_HOSTS="hooks.example.com", INTEGRATIONS_ALLOW_PRIVATE_URLS="1")
    assert done.returncode != 0
    assert "INTEGRATIONS_ALLOW_PRIVATE_URLS is for development and tests" in done.stderr


def test_production_refuses_debug() -> None:
    # Debug pages show settings and code; with DEBUG on, private URLs were allowed too.
    done = check(SECRET_KEY=KEY, ALLOWED_HOSTS="hooks.example.com", DEBUG="1")
    assert done.returncode != 0
    assert "DEBUG is for development" in done.stderr


def run_base(*command: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A command with the base settings, as `manage.py` and `wsgi.py` default to them."""
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith(("INTEGRATIONS_", "DEBUG", "SECRET_KEY", "DJANGO"))
    }
    return subprocess.run(
        [sys.executable, *command], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "command", [("manage.py", "check"), ("-c", "import dialogform_hooks.wsgi")], ids=["manage.py", "wsgi.py"]
)
def test_the_base_settings_refuse_to_start_without_a_key_unless_debugging(command: tuple[str, ...]) -> None:
    refused = run_base(*command)
    assert refused.returncode != 0
    assert "Set SECRET_KEY to a long random string" in refused.stderr
    assert run_base(*command, SECRET_KEY=KEY).returncode == 0
    assert run_base(*command, DEBUG="1").returncode == 0


def test_the_development_key_is_flagged_by_the_deploy_check() -> None:
    done = run_base("manage.py", "check", "--deploy", DEBUG="1")
    assert "security.W009" in done.stderr + done.stdout
