"""The production settings refuse unsafe configurations before anything starts."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
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
