"""Second people in a role, for segregation of duties: a colleague may do what the first may not.

Contracts, requests and snapshots come from tests/support.py; the personas from tests/conftest.py.
"""

import pytest

from licensing.roles import Role
from tests.factories import UserFactory


@pytest.fixture
def other_analyst(db):
    return UserFactory(username="ravi", role=Role.FINANCE_ANALYST)


@pytest.fixture
def other_controller(db):
    return UserFactory(username="ines", role=Role.FINANCIAL_CONTROLLER)
