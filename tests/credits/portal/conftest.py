"""State for the customer portal's credit pages, built through the services.

Dates are relative to today: a customer cannot make a change that goes back in time (the page
and the service both refuse it), so each contract is invoiced and paid for the billing period
under way and the customer's requests take effect today.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from credits import services
from credits.engine import Line, QuoteRequest, quote
from credits.rules import DEFAULT_RULES
from credits.selectors import credit_policy_in_force, policy_rules
from licensing import services as licensing_services
from licensing.models import Entitlement, Plan
from tests.factories import ContractFactory, EntitlementFactory, PlanFactory, admin_actor


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def paid_contract(customer, period, *, quantity=50, price="30.00", paid=True, plan=None):
    """A monthly seat contract running from January to two Januaries later, invoiced for
    the period under way (paid unless `paid=False`), with its seat pool."""
    start = date(period[0].year, 1, 1)
    plan = plan or PlanFactory(unit_price=Decimal(price), currency="USD")
    contract = ContractFactory(
        customer=customer, plan=plan, quantity=quantity, term_start=start,
        term_end=date(start.year + 2, 1, 1),
    )  # fmt: skip
    line = contract.lines.get()
    EntitlementFactory(contract=contract, contract_line=line, quantity=quantity,
                       starts_on=start, ends_on=date(start.year + 2, 1, 1))  # fmt: skip
    licensing_services.invoice_record(
        actor=admin_actor(), contract=contract, number=f"INV-{contract.pk}-{period[0]:%Y%m}",
        period_start=period[0], period_end=period[1],
        lines=[(line, quantity, Decimal(price) * quantity)], issued_on=period[0],
        paid_on=period[0] + timedelta(days=3) if paid else None,
    )  # fmt: skip
    return contract


@pytest.fixture
def seat_contract(customer_a, period):
    """50 seats at USD 30 a month; this month invoiced at USD 1,500.00 and paid."""
    return paid_contract(customer_a, period)


@pytest.fixture
def their_contract(customer_b, period):
    return paid_contract(customer_b, period)


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


def seat_credit(*, paid, before, after, period, effective) -> Decimal:
    """The engine's credit for a seat downgrade in a paid USD period, under the policy in force."""
    line = Line("seats", "seat", Decimal(paid), quantity_before=before, quantity_after=after)
    request = QuoteRequest("USD", "downgrade", period[0], period[1], effective, (line,))
    return quote(request, policy_rules(credit_policy_in_force(on=effective)).engine).total


def downgrade(actor, contract, quantity_after, *, effective, form="credit_note"):
    return services.change_request_create(
        actor=actor, contract_id=contract.pk, intent="downgrade", effective_date=effective,
        lines=[{"contract_line": contract.lines.get().pk, "quantity_after": quantity_after}],
        form=form,
    )  # fmt: skip


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


def publish_policy(controller, *, effective_from: date, summary: str, **rules):
    draft = services.policy_create_draft(
        actor=controller, rules={**DEFAULT_RULES, **rules}, title="Credit policy",
        introduction="Clearer words.", effective_from=effective_from, change_summary=summary,
    )  # fmt: skip
    return services.policy_publish(actor=controller, policy_id=draft.pk)
