"""Personas come from tests/conftest.py; here: a client per user and contracts worth a credit.

Two kinds of dates. Staff may record a change that already happened, so requests by staff use
fixed dates and exact amounts: March 2026 is paid and changes take effect on the 16th. A
customer cannot backdate a change, so a customer's request is made today, in a billing period
under way (`period`), and its amount is worked out with the engine from the same inputs.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from credits import services as credit_services
from credits.engine import Line, QuoteRequest, quote
from credits.models import ChangeRequest, Credit
from credits.selectors import credit_policy_in_force, policy_rules
from licensing import services
from licensing.models import Contract
from licensing.pricing.calendar import add_months
from licensing.roles import Role
from tests.factories import (
    ContractFactory,
    EntitlementFactory,
    PlanFactory,
    UserFactory,
    admin_actor,
)

# The paid billing period of staff requests, and the date their changes take effect: 16 of its
# 31 days remain.
MARCH = (date(2026, 3, 1), date(2026, 4, 1))
EFFECTIVE = date(2026, 3, 16)


def paid_contract(customer, *, seats: int = 50, paid: str = "1500.00", currency: str = "USD",
                  number: str | None = None, period: tuple[date, date] = MARCH,
                  ) -> Contract:  # fmt: skip
    """An active seat contract with a seat pool and a paid invoice for `period` (March 2026).

    The term runs from two months before the period to ten months after it: for March, 2026.
    """
    term_start, term_end = add_months(period[0], -2), add_months(period[0], 10)
    plan = PlanFactory(currency=currency, unit_price=Decimal(paid) / seats)
    contract = ContractFactory(customer=customer, plan=plan, quantity=seats,
                               term_start=term_start, term_end=term_end, billing_anchor=period[0],
                               **({"number": number} if number else {}))  # fmt: skip
    line = contract.lines.get()
    EntitlementFactory(contract=contract, contract_line=line, quantity=seats,
                       starts_on=term_start, ends_on=term_end)  # fmt: skip
    services.invoice_record(
        actor=admin_actor(), contract=contract, number=f"INV-{contract.number}",
        period_start=period[0], period_end=period[1], lines=[(line, seats, Decimal(paid))],
        issued_on=period[0], paid_on=period[0] + timedelta(days=4),
    )  # fmt: skip
    return contract


def seat_credit(*, paid: str, seats: int, after: int, period: tuple[date, date], effective: date,
                currency: str = "USD") -> Decimal:  # fmt: skip
    """What the engine credits for releasing seats of a paid period, under the policy in force."""
    line = Line("seats", "seat", Decimal(paid), quantity_before=seats, quantity_after=after)
    request = QuoteRequest(currency, "downgrade", period[0], period[1], effective, (line,))
    return quote(request, policy_rules(credit_policy_in_force(on=effective)).engine).total


def request_change(
    actor, contract: Contract, *, intent: str = "downgrade", quantity_after: int = 20,
    form: str = "credit_note", effective: date = EFFECTIVE,
) -> ChangeRequest:  # fmt: skip
    """A change requested through the service on the contract's one line, by default effective
    mid-March (so by staff: a customer's request cannot go back)."""
    line = {"contract_line": contract.lines.get().pk}
    if intent == "downgrade":
        line["quantity_after"] = quantity_after
    return credit_services.change_request_create(
        actor=actor, contract_id=contract.pk, intent=intent, effective_date=effective,
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
