from datetime import date
from decimal import Decimal

import pytest

from licensing import services as licensing_services
from licensing.roles import Role
from tests.factories import (
    ContractFactory,
    EntitlementFactory,
    PlanFactory,
    UserFactory,
    admin_actor,
)

MARCH = (date(2026, 3, 1), date(2026, 4, 1))


@pytest.fixture
def seat_contract(customer_a):
    """50 seats at USD 30 a month, March 2026 invoiced at USD 1,500.00 and paid."""
    plan = PlanFactory(unit_price=Decimal("30.00"), currency="USD")
    contract = ContractFactory(
        customer=customer_a, plan=plan, quantity=50, term_start=date(2026, 1, 1),
        term_end=date(2027, 1, 1),
    )  # fmt: skip
    line = contract.lines.get()
    EntitlementFactory(contract=contract, contract_line=line, quantity=50,
                       starts_on=date(2026, 1, 1), ends_on=date(2027, 1, 1))  # fmt: skip
    licensing_services.invoice_record(
        actor=admin_actor(), contract=contract, number=f"INV-{contract.pk}-03",
        period_start=MARCH[0], period_end=MARCH[1], lines=[(line, 50, Decimal("1500.00"))],
        issued_on=MARCH[0], paid_on=date(2026, 3, 5),
    )  # fmt: skip
    return contract


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
