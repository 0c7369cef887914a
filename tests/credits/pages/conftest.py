"""Finance page state, built through the services: paid invoices, entitlements, requests."""

import itertools
from datetime import date
from decimal import Decimal

import pytest

from credits import services as credit_services
from credits.models import Credit
from licensing import services as licensing_services
from tests.factories import ContractFactory, EntitlementFactory, PlanFactory, admin_actor

# November 2026 is paid; a change on the 16th leaves 15 of its 30 days.
PERIOD = (date(2026, 11, 1), date(2026, 12, 1))
EFFECTIVE = date(2026, 11, 16)
_invoice_numbers = itertools.count(1)


@pytest.fixture
def paid_contract(db, customer_a):
    """A contract whose November is paid: `seats` seats at `unit_price` a month."""

    def make(*, customer=None, seats=10, unit_price="30.00", currency="USD"):
        plan = PlanFactory(currency=currency, unit_price=Decimal(unit_price))
        contract = ContractFactory(customer=customer or customer_a, plan=plan, quantity=seats)
        line = contract.lines.get()
        EntitlementFactory(contract=contract, contract_line=line, quantity=seats)
        licensing_services.invoice_record(
            actor=admin_actor(), contract=contract, number=f"INV-P-{next(_invoice_numbers):05d}",
            period_start=PERIOD[0], period_end=PERIOD[1],
            lines=[(line, seats, Decimal(unit_price) * seats)],
            issued_on=PERIOD[0], paid_on=date(2026, 11, 5),
        )  # fmt: skip
        return contract

    return make


@pytest.fixture
def request_credit(manager):
    """A downgrade requested by the account manager (so finance may decide it): its credit."""

    def make(contract, *, quantity_after=4, actor=None, form="credit_note", note="") -> Credit:
        change = credit_services.change_request_create(
            actor=actor or manager, contract_id=contract.pk, intent="downgrade",
            effective_date=EFFECTIVE,
            lines=[{"contract_line": contract.lines.get().pk, "quantity_after": quantity_after}],
            form=form, note=note,
        )  # fmt: skip
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
