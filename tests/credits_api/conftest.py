"""Personas come from tests/conftest.py; here: a client per user and contracts worth a credit."""

from datetime import date
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from credits import services as credit_services
from credits.models import ChangeRequest, Credit
from licensing import services
from licensing.models import Contract
from licensing.roles import Role
from tests.factories import (
    ContractFactory,
    EntitlementFactory,
    PlanFactory,
    UserFactory,
    admin_actor,
)

# The paid billing period every contract here is invoiced for, and the date changes take effect:
# 16 of its 31 days remain.
PERIOD_START, PERIOD_END = date(2026, 3, 1), date(2026, 4, 1)
EFFECTIVE = date(2026, 3, 16)


@pytest.fixture
def api():
    """A client signed in as the given user through a real session, or anonymous for None."""

    def client_for(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_login(user)
        return client

    return client_for


def paid_contract(customer, *, seats: int = 50, paid: str = "1500.00", currency: str = "USD",
                  number: str | None = None) -> Contract:  # fmt: skip
    """An active seat contract with a seat pool and a paid invoice for March 2026."""
    plan = PlanFactory(currency=currency, unit_price=Decimal(paid) / seats)
    contract = ContractFactory(customer=customer, plan=plan, quantity=seats,
                               **({"number": number} if number else {}))  # fmt: skip
    line = contract.lines.get()
    EntitlementFactory(contract=contract, contract_line=line, quantity=seats)
    services.invoice_record(
        actor=admin_actor(), contract=contract, number=f"INV-{contract.number}",
        period_start=PERIOD_START, period_end=PERIOD_END, lines=[(line, seats, Decimal(paid))],
        issued_on=PERIOD_START, paid_on=date(2026, 3, 5),
    )  # fmt: skip
    return contract


def request_change(
    actor, contract: Contract, *, intent: str = "downgrade", quantity_after: int = 20,
    form: str = "credit_note",
) -> ChangeRequest:  # fmt: skip
    """A change requested through the service, effective mid-March, on the contract's one line."""
    line = {"contract_line": contract.lines.get().pk}
    if intent == "downgrade":
        line["quantity_after"] = quantity_after
    return credit_services.change_request_create(
        actor=actor, contract_id=contract.pk, intent=intent, effective_date=EFFECTIVE,
        lines=[line], form=form, note="Fewer seats from mid-March",
    )  # fmt: skip


def requested_credit(actor, contract: Contract, **changes) -> Credit:
    """The credit a downgrade opens, awaiting its first approval."""
    return request_change(actor, contract, **changes).credit


# Second people in a role, for segregation of duties: a colleague may do what the first may not.


@pytest.fixture
def other_analyst(db):
    return UserFactory(username="ravi", role=Role.FINANCE_ANALYST)


@pytest.fixture
def other_controller(db):
    return UserFactory(username="ines", role=Role.FINANCIAL_CONTROLLER)
