import os
import shutil

import pytest
from django.db import connection

from licensing.roles import Role
from tests.factories import CustomerFactory, UserFactory, member_of

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
        from credits.bootstrap import install_credit_reference_data
        from licensing.bootstrap import install_reference_data

        # The flush's post_migrate signal already recreated content types and permissions.
        install_reference_data(create_perms=False)
        install_credit_reference_data(create_perms=False)


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
