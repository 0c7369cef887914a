"""Nonpayment: an invoice unpaid N days (policy) past its due date deprovisions its contract."""

from datetime import timedelta
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from licensing import services as licensing
from licensing.bootstrap import REVOCATION_RULES
from licensing.deprovisioning import services
from licensing.deprovisioning.models import DeprovisioningRun
from tests.factories import ContractFactory, EntitlementFactory, admin_actor


def invoice(contract, *, issued_on, number="INV-1", paid_on=None, due_on=None):
    line = contract.lines.get()
    return licensing.invoice_record(
        actor=admin_actor(), contract=contract, number=number, period_start=issued_on,
        period_end=issued_on + timedelta(days=30), lines=[(line, 10, Decimal("300.00"))],
        issued_on=issued_on, paid_on=paid_on, due_on=due_on,
    )  # fmt: skip


@pytest.fixture
def contract(db):
    contract = ContractFactory(grace_days=0)
    EntitlementFactory(contract=contract)
    return contract


def test_an_invoice_falls_due_after_the_contracts_payment_terms(db, today):
    contract = ContractFactory(payment_terms_days=45)

    recorded = invoice(contract, issued_on=today)

    assert recorded.due_on == today + timedelta(days=45)
    assert recorded.history.get().due_on == recorded.due_on
    assert AuditEvent.objects.get(action="invoice.record").data["due_on"] == (
        recorded.due_on.isoformat()
    )


def test_an_invoice_unpaid_past_the_policys_days_deprovisions_its_contract(contract, today):
    # Due 31 days ago; the policy waits 30 days after the due date.
    overdue = invoice(contract, issued_on=today - timedelta(days=61))

    counts = services.nightly(on=today)

    run = DeprovisioningRun.objects.get(contract=contract)
    contract.refresh_from_db()
    assert counts["nonpayment"] == 1
    assert (run.trigger, run.state, run.policy.label) == (
        "nonpayment",
        "completed",
        "revocation/v1",
    )
    assert overdue.number in run.reason
    assert contract.status == "suspended"
    assert set(contract.entitlements.values_list("state", "renewal")) == {("revoked", "none")}


@pytest.mark.parametrize(
    "issued_days_ago,paid", [(59, False), (61, True)], ids=["not yet 30 days past due", "paid"]
)
def test_an_invoice_paid_or_not_yet_long_overdue_deprovisions_nothing(
    contract, today, issued_days_ago, paid
):
    issued = today - timedelta(days=issued_days_ago)
    invoice(contract, issued_on=issued, paid_on=issued if paid else None)

    counts = services.nightly(on=today)

    contract.refresh_from_db()
    assert counts["nonpayment"] == 0
    assert contract.status == "active"
    assert not DeprovisioningRun.objects.exists()


def test_the_days_after_the_due_date_are_the_policys(contract, manager, admin_user, today):
    draft = services.policy_draft(
        actor=manager, kind="revocation",
        rules={**REVOCATION_RULES, "nonpayment_days_after_due": 5}, summary="Five days",
        effective_from=today, reason="Shorter",
    )  # fmt: skip
    services.policy_publish(actor=admin_user, policy_id=draft.pk, reason="Go", on=today)
    invoice(contract, issued_on=today - timedelta(days=10), due_on=today - timedelta(days=5))

    services.nightly(on=today)

    assert DeprovisioningRun.objects.get(contract=contract).policy.label == "revocation/v2"


def test_nonpayment_joins_a_run_a_breach_already_opened(contract, manager, today):
    contract.grace_days = 10
    contract.save(update_fields=["grace_days"])
    breach = services.run_start(
        actor=manager, contract=contract, trigger="breach", reason="Escalated breach",
        effective_date=today, on=today,
    )  # fmt: skip
    invoice(contract, issued_on=today - timedelta(days=61))

    services.nightly(on=today)

    assert list(DeprovisioningRun.objects.values_list("pk", flat=True)) == [breach.pk]
    joined = AuditEvent.objects.get(action="deprovisioning.join")
    assert (joined.object_id, joined.data["trigger"]) == (str(breach.pk), "nonpayment")


def test_a_second_night_starts_no_second_run(contract, today):
    invoice(contract, issued_on=today - timedelta(days=61))
    services.nightly(on=today)

    counts = services.nightly(on=today + timedelta(days=1))

    assert counts["nonpayment"] == 0
    assert DeprovisioningRun.objects.count() == 1
    assert not AuditEvent.objects.filter(action="deprovisioning.join").exists()
