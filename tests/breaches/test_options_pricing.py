"""Options priced from the contract line when a case is confirmed: the credits engine run the
other way, fees apart, earlier periods listed to include or waive, adjustable before the offer."""

import re
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest

from audit.models import AuditEvent
from breaches.models import EarlierOveruse, RemediationOption
from breaches.services import (
    breach_case_classify,
    earlier_overuse_decide,
    remediation_option_adjust,
    remediation_option_drop,
)
from licensing.errors import ActionForbidden, TransitionNotAllowed
from tests.breaches.support import ON, march_case, march_contract, move
from tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def _options(case) -> dict[str, RemediationOption]:
    return {option.kind: option for option in case.options.all()}


def _confirmed(manager, case):
    return move(manager, case, "review", "confirm")


def test_the_true_up_is_the_issues_example_from_the_paid_invoice(manager, customer_a):
    case = _confirmed(manager, march_case(manager, customer_a))

    true_up = _options(case)["true_up"]
    assert (true_up.amount, true_up.currency, true_up.fees) == (Decimal("210.00"), "USD", 0)
    assert "1,550.00 × 10/50 × 21/31 = USD 210.00" in true_up.explanation
    assert "paid invoice INV-" in true_up.explanation
    assert true_up.details["overuse_start"] == "2026-03-11"


def test_without_a_paid_invoice_the_lines_price_for_the_period_is_used(manager, customer_a):
    case = _confirmed(manager, march_case(manager, customer_a, paid=False))

    true_up = _options(case)["true_up"]
    assert true_up.amount == Decimal("210.00")
    assert "no paid invoice: 50 × USD 31.00" in true_up.explanation


def test_a_run_that_began_in_an_earlier_period_is_priced_from_this_periods_start(
    manager, customer_a
):
    case = _confirmed(manager, march_case(manager, customer_a, start=date(2026, 2, 27), days=4))

    assert _options(case)["true_up"].amount == Decimal("310.00")  # 1550 × 10/50 × 31/31
    earlier = EarlierOveruse.objects.get(case=case)
    assert (earlier.period_start, earlier.period_end) == (date(2026, 2, 1), date(2026, 3, 1))
    assert earlier.amount == Decimal("22.14")  # 1550 × 10/50 × 2/28
    assert earlier.decision == ""


def test_an_earlier_period_included_joins_the_true_up_and_waived_leaves_it(manager, customer_a):
    case = _confirmed(manager, march_case(manager, customer_a, start=date(2026, 2, 27), days=4))
    earlier = case.earlier_overuse.get()

    earlier_overuse_decide(actor=manager, item_id=earlier.pk, decision="included",
                           reason="Over-use was known in February")  # fmt: skip
    assert _options(case)["true_up"].amount == Decimal("332.14")
    assert "Earlier periods included: 1 Feb 2026 to 28 Feb 2026:" in (
        _options(case)["true_up"].explanation
    )
    earlier_overuse_decide(actor=manager, item_id=earlier.pk, decision="waived",
                           reason="Goodwill")  # fmt: skip
    assert _options(case)["true_up"].amount == Decimal("310.00")
    assert "Earlier periods" not in _options(case)["true_up"].explanation
    assert earlier.history.count() == 3


def _money(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _checked_total(explanation: str) -> tuple[Decimal, list[Decimal]]:
    """The total the explanation states, after checking that its parts add up to it."""
    found = re.search(r"Total: (.+) = USD ([\d,]+\.\d\d)\.$", explanation)
    assert found, explanation
    parts = [
        -_money(amount) if sign == "−" else _money(amount)
        for sign, amount in re.findall(r"([+−]?) ?USD ([\d,]+\.\d\d)", found.group(1))
    ]
    assert sum(parts) == _money(found.group(2)), explanation
    return _money(found.group(2)), parts


def test_with_an_earlier_period_included_every_number_in_the_explanation_checks_out(
    manager, customer_a
):
    case = _confirmed(manager, march_case(manager, customer_a, start=date(2026, 2, 27), days=4))
    earlier = case.earlier_overuse.get()

    earlier_overuse_decide(actor=manager, item_id=earlier.pk, decision="included",
                           reason="Over-use was known in February")  # fmt: skip

    true_up = _options(case)["true_up"]
    total, parts = _checked_total(true_up.explanation)
    assert total == true_up.amount == Decimal("332.14")
    assert parts == [Decimal(true_up.details["current_charge"]), earlier.amount]
    # Each period's own formula gives the figure it states, rounded half up to the cent.
    formulas = re.findall(
        r"USD ([\d,]+\.\d\d) × (\d+)/(\d+) × (\d+)/(\d+) = USD ([\d,]+\.\d\d)",
        true_up.explanation,
    )
    assert len(formulas) == 2
    for paid, excess, quantity, days_over, days, charge in formulas:
        exact = _money(paid) * int(excess) / int(quantity) * int(days_over) / int(days)
        assert exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) == _money(charge)
    assert {_money(f[5]) for f in formulas} == {Decimal("310.00"), Decimal("22.14")}


def test_an_adjusted_true_up_names_the_adjustment_in_its_sum(manager, customer_a):
    case = _confirmed(manager, march_case(manager, customer_a, start=date(2026, 2, 27), days=4))
    earlier = case.earlier_overuse.get()
    true_up = _options(case)["true_up"]
    remediation_option_adjust(actor=manager, option_id=true_up.pk, amount=Decimal("300.00"),
                              reason="Goodwill")  # fmt: skip

    earlier_overuse_decide(actor=manager, item_id=earlier.pk, decision="included",
                           reason="Over-use was known in February")  # fmt: skip

    true_up = _options(case)["true_up"]
    total, parts = _checked_total(true_up.explanation)
    assert total == true_up.amount == Decimal("322.14")
    assert parts == [Decimal("310.00"), Decimal("22.14"), Decimal("-10.00")]
    assert "− USD 10.00 taken off by the account manager = USD 322.14." in true_up.explanation


def test_the_upgrade_is_the_next_higher_tier_of_the_same_product_and_currency(manager, customer_a):
    contract = march_contract(customer_a)
    plan = contract.lines.get().plan
    PlanFactory(product=plan.product, tier="enterprise", unit_price=Decimal("50.00"))
    professional = PlanFactory(product=plan.product, tier="professional",
                               unit_price=Decimal("40.00"), name="Professional")  # fmt: skip
    PlanFactory(product=plan.product, tier="professional", currency="EUR",
                unit_price=Decimal("1.00"))  # fmt: skip

    case = _confirmed(manager, march_case(manager, customer_a, contract=contract))

    upgrade = _options(case)["upgrade"]
    assert upgrade.target_plan == professional
    # (40.00 × 60 − 31.00 × 50) × 21/31 = 850 × 21/31
    assert upgrade.amount == Decimal("575.81")


def test_no_upgrade_is_offered_where_no_higher_tier_exists(manager, customer_a):
    case = _confirmed(manager, march_case(manager, customer_a))

    assert set(_options(case)) == {"true_up", "grace_extension", "reduction_plan"}


def test_the_reduction_plan_charges_the_over_use_so_far(manager, customer_a):
    case = _confirmed(manager, march_case(manager, customer_a))

    reduction = _options(case)["reduction_plan"]
    assert reduction.amount == Decimal("30.00")  # 1550 × 10/50 × 3/31
    assert reduction.deadline == ON + timedelta(days=60)


def test_a_willful_case_has_its_fee_apart_and_a_shorter_grace(manager, customer_a):
    case = march_case(manager, customer_a)
    breach_case_classify(actor=manager, case_id=case.pk, classification="willful",
                         rationale="Warned twice and kept adding users")  # fmt: skip

    options = _options(_confirmed(manager, case))

    assert (options["true_up"].amount, options["true_up"].fees) == (
        Decimal("210.00"), Decimal("21.00"),
    )  # fmt: skip
    assert "apart from license fees" in options["true_up"].fees_explanation
    assert options["grace_extension"].deadline == ON + timedelta(days=7)


def test_an_inadvertent_case_gets_the_longer_grace_and_no_fee(manager, customer_a):
    case = march_case(manager, customer_a)
    breach_case_classify(actor=manager, case_id=case.pk, classification="inadvertent",
                         rationale="New team")  # fmt: skip

    options = _options(_confirmed(manager, case))

    assert options["grace_extension"].deadline == ON + timedelta(days=30)
    assert all(option.fees == 0 for option in options.values())


def test_classifying_after_confirmation_sets_the_fees_before_the_offer(manager, customer_a):
    case = _confirmed(manager, march_case(manager, customer_a))

    breach_case_classify(actor=manager, case_id=case.pk, classification="willful",
                         rationale="Kept adding users")  # fmt: skip

    assert _options(case)["true_up"].fees == Decimal("21.00")


def test_a_manager_adjusts_an_option_and_the_priced_figure_stays_on_record(manager, customer_a):
    case = _confirmed(manager, march_case(manager, customer_a))
    true_up = _options(case)["true_up"]

    remediation_option_adjust(actor=manager, option_id=true_up.pk, amount=Decimal("200"),
                              reason="Rounded down as agreed on the call")  # fmt: skip

    true_up.refresh_from_db()
    assert (true_up.amount, true_up.priced_amount, true_up.adjusted_by) == (
        Decimal("200.00"), Decimal("210.00"), manager,
    )  # fmt: skip
    assert AuditEvent.objects.get(action="remediation_option.adjust").data["amount"] == {
        "from": "210.000000", "to": "200.00",
    }  # fmt: skip


def test_options_do_not_change_once_offered(manager, customer_a):
    case = move(manager, _confirmed(manager, march_case(manager, customer_a)), "offer")
    option = _options(case)["grace_extension"]

    with pytest.raises(TransitionNotAllowed):
        remediation_option_drop(actor=manager, option_id=option.pk, reason="Too late")
    option.refresh_from_db()
    assert option.dropped_at is None


def test_a_dropped_option_is_not_offered(manager, customer_a):
    case = _confirmed(manager, march_case(manager, customer_a))
    grace = _options(case)["grace_extension"]

    remediation_option_drop(actor=manager, option_id=grace.pk, reason="Not for this customer")

    grace.refresh_from_db()
    assert grace.dropped_by == manager and not grace.is_offered


@pytest.mark.parametrize("persona", ["analyst", "customer_user"], indirect=True)
def test_only_managers_adjust_options(manager, customer_a, persona):
    case = _confirmed(manager, march_case(manager, customer_a))
    option = _options(case)["true_up"]

    with pytest.raises(ActionForbidden):
        remediation_option_adjust(actor=persona, option_id=option.pk, amount=Decimal("1"),
                                  reason="Cheaper")  # fmt: skip
    option.refresh_from_db()
    assert option.amount == Decimal("210.00")


def test_a_case_whose_entitlement_names_no_line_cannot_be_confirmed(manager, seats, today):
    from tests.breaches.support import detected_case

    case = detected_case(manager, seats, start=today - timedelta(days=10))

    with pytest.raises(TransitionNotAllowed, match="contract line"):
        move(manager, case, "review", "confirm", on=today)
