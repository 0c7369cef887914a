"""Contracts worth a credit, built through the services.

`seat_contract` has March 2026 paid and serves staff, who may record a change that already
happened. A customer cannot backdate a change: `current_contract` is paid for a billing period
under way, for requests made from today.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from licensing import services as licensing_services
from licensing.pricing.calendar import add_months
from licensing.roles import Role
from tests.factories import (
    ContractFactory,
    EntitlementFactory,
    PlanFactory,
    UserFactory,
    admin_actor,
)

MARCH = (date(2026, 3, 1), date(2026, 4, 1))


def paid_seat_contract(customer, *, term: tuple[date, date], period: tuple[date, date]):
    """50 seats at USD 30 a month over `term`, `period` invoiced at USD 1,500.00 and paid."""
    plan = PlanFactory(unit_price=Decimal("30.00"), currency="USD")
    contract = ContractFactory(
        customer=customer, plan=plan, quantity=50, term_start=term[0], term_end=term[1],
    )  # fmt: skip
    line = contract.lines.get()
    EntitlementFactory(contract=contract, contract_line=line, quantity=50,
                       starts_on=term[0], ends_on=term[1])  # fmt: skip
    licensing_services.invoice_record(
        actor=admin_actor(), contract=contract, number=f"INV-{contract.pk}-{period[0]:%Y%m%d}",
        period_start=period[0], period_end=period[1], lines=[(line, 50, Decimal("1500.00"))],
        issued_on=period[0], paid_on=period[0] + timedelta(days=4),
    )  # fmt: skip
    return contract


@pytest.fixture
def seat_contract(customer_a):
    """50 seats at USD 30 a month in 2026, March invoiced at USD 1,500.00 and paid."""
    return paid_seat_contract(customer_a, term=(date(2026, 1, 1), date(2027, 1, 1)), period=MARCH)


@pytest.fixture
def current_contract(customer_a, period):
    """50 seats at USD 30 a month, the period under way invoiced at USD 1,500.00 and paid; the
    term runs from two months before that period to ten months after it."""
    term = (add_months(period[0], -2), add_months(period[0], 10))
    return paid_seat_contract(customer_a, term=term, period=period)


@pytest.fixture
def second_analyst(db):
    return UserFactory(username="sam", role=Role.FINANCE_ANALYST)


def downgrade(actor, contract, quantity_after, *, effective=date(2026, 3, 16), form="credit_note"):
    from credits.services import change_request_create

    return change_request_create(
        actor=actor, contract_id=contract.pk, intent="downgrade", effective_date=effective,
        lines=[{"contract_line": contract.lines.get().pk, "quantity_after": quantity_after}],
        form=form,
    )  # fmt: skip
