"""Real Chromium (Debian's package) driven by Playwright, against Django's live test server."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM_ARGS = [
    "--no-sandbox",  # the suite runs as root in CI
    "--disable-background-networking",  # the machines have no network beyond loopback
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Chromium for one test module. Playwright's sync API keeps an event loop in this thread while
    it runs, so it is stopped after the module: the rest of the suite's ORM calls must not see it."""
    executable = shutil.which("chromium")
    assert executable, "chromium is missing: `make test` installs it (apt-get install chromium)"
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        # The tests' own ORM calls are synchronous; Django's guard against async contexts does not apply.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def screenshot_dir() -> Path | None:
    directory = os.environ.get("SCREENSHOTS_DIR")
    if not directory:
        return None
    Path(directory).mkdir(parents=True, exist_ok=True)
    return Path(directory)


@pytest.fixture
def screenshot(page: Page) -> Callable[[str], None]:
    """Saves a screenshot into $SCREENSHOTS_DIR (`make screenshots` writes docs/screenshots/); else nothing."""

    def take(name: str) -> None:
        directory = os.environ.get("SCREENSHOTS_DIR")
        if directory:
            Path(directory).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(directory) / f"{name}.png"), full_page=True)

    return take
