"""Contracts worth a credit, built through the services (tests/support.py).

`seat_contract` has March 2026 paid and serves staff, who may record a change that already
happened. A customer cannot backdate a change: `current_contract` is paid for a billing period
under way, for requests made from today.
"""

import pytest

from licensing.roles import Role
from tests.factories import UserFactory
from tests.support import MARCH, paid_contract


@pytest.fixture
def seat_contract(customer_a):
    """50 seats at USD 30 a month in 2026, March invoiced at USD 1,500.00 and paid."""
    return paid_contract(customer_a, period=MARCH)


@pytest.fixture
def current_contract(customer_a, period):
    """50 seats at USD 30 a month, the period under way invoiced at USD 1,500.00 and paid; the
    term runs from two months before that period to ten months after it."""
    return paid_contract(customer_a, period=period)


@pytest.fixture
def second_analyst(db):
    return UserFactory(username="sam", role=Role.FINANCE_ANALYST)
