"""Finance page state, built through the services: paid invoices, entitlements, requests."""

from datetime import date

import pytest

from credits import services as credit_services
from credits.models import Credit
from tests import support

# November 2026 is paid; a change on the 16th leaves 15 of its 30 days.
PERIOD = (date(2026, 11, 1), date(2026, 12, 1))
EFFECTIVE = date(2026, 11, 16)


@pytest.fixture
def paid_contract(db, customer_a):
    """`tests.support.paid_contract` for these pages: November paid, Northwind's, 10 seats."""

    def make(*, customer=None, seats=10, **options):
        return support.paid_contract(customer or customer_a, period=PERIOD, seats=seats, **options)

    return make


@pytest.fixture
def request_credit(manager):
    """A downgrade requested by the account manager (so finance may decide it): its credit."""

    def make(contract, *, quantity_after=4, actor=None, **options) -> Credit:
        change = support.downgrade(actor or manager, contract, quantity_after,
                                   effective=EFFECTIVE, **options)  # fmt: skip
        return Credit.objects.get(change=change)

    return make


@pytest.fixture
def credit(paid_contract, request_credit):
    """10 seats at USD 30.00 down to 4 on the 16th: 300.00 × 6/10 × 15/30 = USD 90.00."""
    return request_credit(paid_contract())


@pytest.fixture
def issued_credit(credit, analyst):
    return credit_services.credit_approve(
        actor=analyst, credit_id=credit.pk, reason="Checked against the invoice"
    )
