"""State for the customer portal's credit pages, built through the services.

Dates are relative to today: a customer cannot make a change that goes back in time (the page
and the service both refuse it), so each contract is invoiced and paid for the billing period
under way and the customer's requests take effect today.
"""

from datetime import date
from decimal import Decimal

import pytest

from credits import services
from licensing import services as licensing_services
from licensing.models import Entitlement, Plan
from tests.factories import EntitlementFactory, PlanFactory, admin_actor
from tests.support import downgrade, paid_contract


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def seat_contract(customer_a, period):
    """50 seats at USD 30 a month; this month invoiced at USD 1,500.00 and paid."""
    return paid_contract(customer_a, period=period)


@pytest.fixture
def their_contract(customer_b, period):
    return paid_contract(customer_b, period=period)


@pytest.fixture
def mixed_contract(customer_a, period):
    """A seat line and a per-unit API commitment (1,000,000 calls, USD 1,000.00), both paid."""
    start = date(period[0].year, 1, 1)
    end = date(start.year + 2, 1, 1)
    seats = PlanFactory(unit_price=Decimal("30.00"), currency="USD", name="Atlas seats")
    calls = PlanFactory(
        unit_price=Decimal("1000.00"), currency="USD", name="Cobalt 1M calls",
        pricing_model=Plan.PricingModel.PER_UNIT, unit_label="million calls",
    )  # fmt: skip
    actor = admin_actor()
    contract = licensing_services.contract_create(
        actor=actor, customer=customer_a, number="C-MIX-1", term_start=start, term_end=end,
        lines=[licensing_services.LineSpec(plan=seats, quantity=20),
               licensing_services.LineSpec(plan=calls, quantity=1)],
    )  # fmt: skip
    contract = licensing_services.contract_transition(
        actor=actor, contract_id=contract.pk, transition="activate", reason="Signed"
    )
    seat_line, call_line = contract.lines.order_by("pk")
    EntitlementFactory(contract=contract, contract_line=seat_line, quantity=20,
                       starts_on=start, ends_on=end)  # fmt: skip
    EntitlementFactory(contract=contract, contract_line=call_line, quantity=1_000_000,
                       kind=Entitlement.Kind.API_QUOTA, unit="calls", starts_on=start,
                       ends_on=end)  # fmt: skip
    licensing_services.invoice_record(
        actor=actor, contract=contract, number="INV-MIX-1", period_start=period[0],
        period_end=period[1],
        lines=[(seat_line, 20, Decimal("600.00")), (call_line, 1, Decimal("1000.00"))],
        issued_on=period[0], paid_on=period[0],
    )  # fmt: skip
    return contract


@pytest.fixture
def pending_credit(customer_user, seat_contract, today):
    """50 → 40 seats from today: USD 300.00 for the whole period, prorated to what remains of it
    (see `seat_credit`), awaiting the analyst."""
    return downgrade(customer_user, seat_contract, 40, effective=today).credit


@pytest.fixture
def issued_credit(pending_credit, analyst):
    return services.credit_approve(actor=analyst, credit_id=pending_credit.pk, reason="Checked")


@pytest.fixture
def their_issued_credit(other_customer_user, their_contract, analyst, today):
    credit = downgrade(other_customer_user, their_contract, 40, effective=today).credit
    return services.credit_approve(actor=analyst, credit_id=credit.pk, reason="Checked")
