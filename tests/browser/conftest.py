"""Real-browser tests: Debian's Chromium driven by Playwright against pytest-django's live server.

Every browser test takes `browser_page`: a fresh, signed-out page whose base URL is the live
server. A failing test leaves a full-page screenshot in test-artifacts/ (git-ignored).
"""

import contextlib
import re
from pathlib import Path

import pytest
from django.db import connections

CHROMIUM = "/usr/bin/chromium"
# Quiet and offline: no sandbox (containers), no GPU, and none of Chromium's own network chatter.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 15_000


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    # Lets the fixture see, at teardown, whether the test body failed.
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def browser_page(request, live_server, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes in
    # between are still synchronous, so Django's async-safety guard is lifted for this test only.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1280, "height": 900}, locale="en-US"
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        try:
            yield page
        finally:
            report = getattr(request.node, "report_call", None)
            if report is None or report.failed:
                ARTIFACTS.mkdir(exist_ok=True)
                name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
                # A browser too broken to take a picture must not hide the test's own failure.
                with contextlib.suppress(PlaywrightError):
                    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
            context.close()
            browser.close()
            # Inside sync_playwright() the test runs in another contextvars context, so the ORM
            # opened a connection of its own there; closed here, or PostgreSQL refuses to drop
            # the test database at the end ("being accessed by other users").
            connections.close_all()


def sign_in(page, *, username: str, password: str = "pw") -> None:
    """Sign in through the real login form, as a person would."""
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
