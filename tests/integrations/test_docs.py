"""The docs say what the code does: every default they show is conf.py's, and every link stays in the repository."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings

from integrations.conf import Settings, conf

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted(ROOT.glob("examples/*/README.md"))]
SETTING_ROW = re.compile(r"^\|\s*`(INTEGRATIONS_[A-Z_]+)`\s*\|\s*([^|]*?)\s*\|", re.MULTILINE)
LINK = re.compile(r"\]\(([^)\s]+)\)")
WEB_ADDRESS = re.compile(r"\bhttps?://(\[[^\]]*\]|[^/\s)>`\"':]+)")
# The docs' own examples: the machine itself, and names reserved for documentation.
STAYS_HERE = re.compile(
    r"127\.\d+\.\d+\.\d+|localhost|\[::1\]|0\.0\.0\.0|169\.254\.169\.254|(.+\.)?example\.(com|org|net)"
)


def conf_names() -> list[str]:
    return [name for name, value in vars(Settings).items() if isinstance(value, property)]


def documented_defaults() -> list[tuple[str, str, str]]:
    return [(path.name, name, shown) for path in DOCS for name, shown in SETTING_ROW.findall(path.read_text())]


def as_shown(value: Any) -> str:
    """A default as the docs write it."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return ",".join(as_shown(item) for item in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@pytest.fixture
def defaults(settings: Any) -> dict[str, str]:
    """What conf.py answers with none of the app's settings set."""
    for name in [name for name in dir(django_settings) if name.startswith("INTEGRATIONS_")]:
        delattr(settings, name)
    return {f"INTEGRATIONS_{name}": as_shown(getattr(conf, name)) for name in conf_names()}


def test_every_default_the_docs_show_is_the_one_in_conf(defaults: dict[str, str]) -> None:
    shown = documented_defaults()
    assert len(shown) >= len(conf_names())
    wrong = [
        (doc, name, value, defaults.get(name))
        for doc, name, value in shown
        if ("" if value in {"(none)", "(none: required)"} else value.strip("`")) != defaults.get(name)
    ]
    assert wrong == []


def test_install_md_lists_every_setting() -> None:
    listed = {name for doc, name, _ in documented_defaults() if doc == "install.md"}
    assert listed == {f"INTEGRATIONS_{name}" for name in conf_names()}


def test_the_account_model_and_the_adapter_have_no_default(defaults: dict[str, str]) -> None:
    assert defaults["INTEGRATIONS_ACCOUNT_MODEL"] == ""
    assert defaults["INTEGRATIONS_ADAPTER"] == ""


@pytest.mark.parametrize("path", DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_links_stay_in_the_repository_and_lead_somewhere(path: Path) -> None:
    for target in LINK.findall(path.read_text()):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # an address (checked below), or a heading of the same file
        resolved = (path.parent / target.split("#")[0]).resolve()
        assert resolved.is_relative_to(ROOT), f"{path.name} links outside the repository: {target}"
        assert resolved.exists(), f"{path.name} links to nothing: {target}"


@pytest.mark.parametrize("path", [*DOCS, ROOT / "CHANGELOG.md"], ids=lambda path: str(path.relative_to(ROOT)))
def test_no_address_outside_the_repository(path: Path) -> None:
    """The repository stands alone: what a reader needs is said here, not behind a link to another site."""
    outside = [host for host in WEB_ADDRESS.findall(path.read_text()) if not STAYS_HERE.fullmatch(host)]
    assert outside == []
