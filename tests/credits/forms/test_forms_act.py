"""Deferral, the move to a smaller plan, and forms that cannot be carried out not offered."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from credits import services as credit_services
from credits.models import Credit
from credits.portal_forms import ChangeRequestForm
from credits.selectors import changeable_lines, credit_policy_in_force, policy_rules
from credits.services.forms import credit_form_refusal, offered_forms
from licensing import services as licensing_services
from licensing.errors import DomainError
from tests.credits.pages.conftest import EFFECTIVE
from tests.factories import PlanFactory, admin_actor


def invoice(contract, number, amount, start=date(2026, 12, 1)):
    line = contract.lines.get()
    return licensing_services.invoice_record(
        actor=admin_actor(), contract=contract, number=number, period_start=start,
        period_end=date(2027, 1, 1), lines=[(line, line.quantity, Decimal(amount))],
        issued_on=start,
    )  # fmt: skip


def request(manager, contract, *, form, deferred_to=None, plan_after=None, quantity_after=4):
    line = {"contract_line": contract.lines.get().pk, "quantity_after": quantity_after}
    if plan_after:
        line["plan_after"] = plan_after
    change = credit_services.change_request_create(
        actor=manager, contract_id=contract.pk, intent="downgrade", effective_date=EFFECTIVE,
        lines=[line], form=form, deferred_to=deferred_to, on=timezone.localdate(),
    )  # fmt: skip
    return Credit.objects.get(change=change)


def test_deferral_lands_on_the_chosen_line_when_it_is_invoiced(paid_contract, manager, analyst):
    contract, later = paid_contract(), paid_contract()
    target = later.lines.get()
    credit = request(manager, contract, form="deferral", deferred_to=target.pk)
    assert credit.deferred_to == target
    credit_services.credit_approve(actor=analyst, credit_id=credit.pk, reason="Checked")
    # The contract's own next invoice keeps its full amount; the chosen line's takes the value.
    assert not invoice(contract, "INV-OWN", "300.00").credit_adjustments.exists()
    received = invoice(later, "INV-LATER", "300.00").credit_adjustments.get()
    assert (received.credit, received.kind, received.amount) == (
        credit, "deferral", Decimal("90.00"),
    )  # fmt: skip


def test_a_deferral_must_name_a_later_line(paid_contract, manager, customer_b):
    contract = paid_contract()
    paid_contract()
    with pytest.raises(DomainError) as refused:
        request(manager, contract, form="deferral")
    assert refused.value.field == "deferred_to"
    foreign = paid_contract(customer=customer_b).lines.get()
    with pytest.raises(DomainError):
        request(manager, contract, form="deferral", deferred_to=foreign.pk)


def test_move_to_a_smaller_plan_switches_the_line(paid_contract, manager, analyst):
    contract = paid_contract()
    line = contract.lines.get()
    smaller = PlanFactory(product=line.plan.product, unit_price=Decimal("20.00"))
    credit = request(manager, contract, form="plan_change", plan_after=smaller.pk)
    credit_services.credit_approve(actor=analyst, credit_id=credit.pk, reason="Checked")
    line.refresh_from_db()
    assert (line.plan, line.unit_price, line.quantity) == (smaller, Decimal("20.00"), 4)


def test_a_larger_or_foreign_plan_is_refused(paid_contract, manager):
    contract = paid_contract()
    line = contract.lines.get()
    PlanFactory(product=line.plan.product, unit_price=Decimal("20.00"))  # the form is offered
    larger = PlanFactory(product=line.plan.product, unit_price=Decimal("50.00"))
    other_product = PlanFactory(unit_price=Decimal("5.00"))
    for plan in (larger, other_product):
        with pytest.raises(DomainError) as refused:
            request(manager, contract, form="plan_change", plan_after=plan.pk)
        assert refused.value.field == "plan_after"


def test_forms_that_cannot_be_carried_out_are_not_offered(paid_contract, customer_a, today):
    contract = paid_contract()  # alone: no other line to defer to, no smaller plan
    allowed = policy_rules(credit_policy_in_force(on=today)).allowed_forms
    offered = [value for value, _ in offered_forms(
        allowed=allowed, contract=contract, intent=None, effective_date=today)]  # fmt: skip
    assert "deferral" not in offered and "plan_change" not in offered
    assert "credit_note" in offered
    assert credit_form_refusal(form="future_discount", contract=contract, intent="terminate",
                               effective_date=today)  # fmt: skip
    assert credit_form_refusal(form="plan_change", contract=contract, intent="pause",
                               effective_date=today)  # fmt: skip
    # The portal's form offers the same.
    form = ChangeRequestForm(
        contract=contract, lines=changeable_lines(contract=contract, on=today),
        rules=policy_rules(credit_policy_in_force(on=today)), today=today, actor=None,
    )  # fmt: skip
    assert [v for v, _ in form.fields["credit_form"].choices] == offered

    line = contract.lines.get()
    PlanFactory(product=line.plan.product, unit_price=Decimal("10.00"))
    paid_contract()
    offered = [value for value, _ in offered_forms(
        allowed=allowed, contract=contract, intent=None, effective_date=today)]  # fmt: skip
    assert "deferral" in offered and "plan_change" in offered


def test_the_service_refuses_a_form_not_offered(paid_contract, manager):
    with pytest.raises(DomainError) as refused:
        request(manager, paid_contract(), form="deferral")
    assert refused.value.field == "form"


def test_the_api_refuses_a_form_not_offered(api, paid_contract, manager):
    contract = paid_contract()
    response = api(manager).post("/api/v1/credits/change-requests/", {
        "contract": contract.pk, "intent": "downgrade", "effective_date": str(EFFECTIVE),
        "lines": [{"contract_line": contract.lines.get().pk, "quantity_after": 4}],
        "form": "plan_change",
    }, format="json")  # fmt: skip
    assert response.status_code == 400
    assert "form" in response.json()
