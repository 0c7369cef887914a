import contextlib
import os
import re
import shutil
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db import connection, connections

from licensing.roles import Role
from tests.factories import CustomerFactory, UserFactory, member_of

pytest_plugins = ["tests.fixtures.clock", "tests.fixtures.clients"]

IN_CI = bool(os.environ.get("CI"))


def _unavailable(reason: str) -> None:
    # Locally a missing service skips; in CI it is a failure, so nothing passes by being absent.
    if IN_CI:
        pytest.fail(f"{reason} (required because CI is set)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _require_services(request):
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        _unavailable("needs PostgreSQL: set DATABASE_URL=postgres://... to run it")
    if request.node.get_closest_marker("browser") and not shutil.which("chromium"):
        _unavailable("needs Debian's chromium at /usr/bin/chromium")
    if request.node.get_closest_marker("redis") and not os.environ.get("CELERY_BROKER_URL"):
        _unavailable("needs Redis: set CELERY_BROKER_URL=redis://...")


@pytest.fixture(autouse=True)
def _reference_data(request):
    # A transactional test flushes the database afterwards, migrations' rows included.
    marker = request.node.get_closest_marker("django_db")
    if (marker and marker.kwargs.get("transaction")) or "live_server" in request.fixturenames:
        request.getfixturevalue("transactional_db")
        from audit.bootstrap import install_audit_reference_data
        from breaches.bootstrap import install_breach_reference_data
        from credits.bootstrap import install_credit_reference_data
        from licensing.bootstrap import install_reference_data

        # The flush's post_migrate signal already recreated content types and permissions.
        install_audit_reference_data()
        install_reference_data(create_perms=False)
        install_credit_reference_data(create_perms=False)
        install_breach_reference_data(create_perms=False)


@pytest.fixture(scope="session", autouse=True)
def _own_broker_database():
    """Under pytest-xdist every process has its own test database, so it takes its own Redis
    database too: a real worker started by one process never runs another's tasks."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not (worker.startswith("gw") and os.environ.get("CELERY_BROKER_URL")):
        return
    # Celery reads the variable before its own settings, so the variable is what changes.
    base = urlsplit(os.environ["CELERY_BROKER_URL"])
    first = int(base.path.strip("/") or 0)
    own = urlunsplit(base._replace(path=f"/{first + 1 + int(worker[2:])}"))
    os.environ["CELERY_BROKER_URL"] = own


@pytest.fixture(autouse=True)
def _eager_celery(settings):
    # Tasks run in-process unless a test starts a real worker.
    from config.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER


# Named personas: access tests read like the access rules.


@pytest.fixture
def manager(db):
    return UserFactory(username="maya", role=Role.ACCOUNT_MANAGER)


@pytest.fixture
def analyst(db):
    return UserFactory(username="priya", role=Role.FINANCE_ANALYST)


@pytest.fixture
def approver(db):
    return UserFactory(username="jonas", role=Role.FINANCE_APPROVER)


@pytest.fixture
def controller(db):
    return UserFactory(username="grace", role=Role.FINANCIAL_CONTROLLER)


@pytest.fixture
def auditor(db):
    return UserFactory(username="henrik", role=Role.AUDITOR)


@pytest.fixture
def admin_user(db):
    user = UserFactory(username="ada")
    user.is_superuser = user.is_staff = True
    user.save()
    return user


@pytest.fixture
def customer_a(db):
    return CustomerFactory(name="Northwind Traders", code="northwind")


@pytest.fixture
def customer_b(db):
    return CustomerFactory(name="Globex Corporation", code="globex")


@pytest.fixture
def customer_user(customer_a):
    user = UserFactory(username="nina")
    member_of(user, customer_a)
    return user


@pytest.fixture
def other_customer_user(customer_b):
    user = UserFactory(username="gus")
    member_of(user, customer_b)
    return user


@pytest.fixture
def persona(request):
    """A persona by name: `@pytest.mark.parametrize("persona", [...], indirect=True)`."""
    return request.getfixturevalue(request.param)


# Real-browser tests: Debian's Chromium driven by Playwright against the live server. Every
# browser test takes `browser_page`, a fresh signed-out page whose base URL is the live
# server; a failing test leaves a full-page screenshot in test-artifacts/ (git-ignored).
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
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
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

    # The live server's first request imports every URLconf and view module (about 10 s on a
    # busy 2-core machine): paid here, before the page's 15 s timeouts start counting.
    urllib.request.urlopen(f"{live_server.url}/login/", timeout=120).read()
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
