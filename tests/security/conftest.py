"""The world the security tables probe: a real row of each kind for each of two customers."""

import pytest

from tests.breaches.cases import opened_case
from tests.support import (
    add_rate,
    bundle_of,
    connected_system,
    issued_credit,
    open_dispute,
    paid_contract,
    requested_credit,
    review_queue_rows,
)


def _deprovisioning_ids(customer, manager) -> dict:
    """A run planned (not yet told) on another contract of the customer, and a hold on it."""
    from django.utils import timezone

    from licensing.deprovisioning import services as deprovisioning
    from licensing.models import PolicyVersion
    from tests.factories import ContractFactory

    today = timezone.localdate()
    contract = ContractFactory(customer=customer)
    run = deprovisioning.run_start(
        actor=manager, contract=contract, trigger="termination", reason="Matrix",
        effective_date=today, on=today,
    )  # fmt: skip
    hold = deprovisioning.hold_place(actor=manager, contract=contract, kind="legal_hold",
                                     reason="Matrix", on=today)  # fmt: skip
    revocation = PolicyVersion.objects.get(kind="revocation", number=1)
    return {"run": run.pk, "hold": hold.pk, "revocation_policy": revocation.pk,
            "told_run": _told_run(customer, manager, today),
            **review_queue_rows(manager, customer,
                                name=f"Matrix review {customer.code}")}  # fmt: skip


def _told_run(customer, manager, today) -> int:
    """A run that told the customer (its notice PDF kept) and waits under a hold (sec9b)."""
    from licensing.deprovisioning import services as deprovisioning
    from tests.factories import ContractFactory

    contract = ContractFactory(customer=customer)
    run = deprovisioning.run_start(
        actor=manager, contract=contract, trigger="termination", reason="Matrix",
        effective_date=today, on=today,
    )  # fmt: skip
    deprovisioning.hold_place(actor=manager, contract=contract, kind="legal_hold", reason="Matrix",
                              on=today)  # fmt: skip
    return deprovisioning.run_advance(run_id=run.pk, on=today).pk


# --- Rows the matrix once probed with a literal id 1 (sec9b): a real row of each customer's --
def _breach_ids(customer, manager, entitlement) -> dict:
    """A case confirmed with the customer (so their portal shows it), with its priced options
    and an earlier period's over-use, a breach notice, a logged call with an attachment and a
    milestone; and a usage warning on the entitlement."""
    from datetime import timedelta

    from django.utils import timezone

    from breaches import services as breaches
    from breaches.models import UsageWarning
    from breaches.notices import breach_notice_issue
    from breaches.services.warnings import usage_warnings_raise
    from tests.breaches.support import detected_case
    from tests.breaches.usage import report_usage

    today = timezone.localdate()
    # Over-use reported and detected from three weeks ago into this month: confirming prices the
    # previous period's as earlier over-use.
    case = detected_case(manager, entitlement, start=today - timedelta(days=21), days=12)
    for transition in ("review", "confirm"):  # confirming prices the remediation options
        case = breaches.breach_case_transition(
            actor=manager, case_id=case.pk, transition=transition, reason="Matrix", on=today
        )
    notice = breach_notice_issue(actor=manager, case_id=case.pk, kind="breach_notice", on=today,
                                 reason="Matrix")  # fmt: skip
    call = breaches.communication_log(
        actor=manager, case_id=case.pk, kind="call", subject="Matrix", body="Said so.",
        occurred_at=timezone.now() - timedelta(hours=1), reason="Matrix",
        attachments=[breaches.Attachment("minutes.txt", "text/plain", b"minutes")],
    )  # fmt: skip
    milestone = breaches.milestone_create(
        actor=manager, case_id=case.pk, title="Matrix", due_on=today + timedelta(days=7),
        on=today, reason="Matrix", customer_contact_name="Nina Berg",
        customer_contact_email="nina@example.com",
    )  # fmt: skip
    report_usage(manager, entitlement, {today - timedelta(days=1): entitlement.quantity})
    usage_warnings_raise(on=today, entitlement_ids=[entitlement.pk])
    return {
        "shown_case": case.pk, "notice": notice.pk, "attachment": call.attachments.get().pk,
        "milestone": milestone.pk, "option": case.options.earliest("pk").pk,
        "earlier": case.earlier_overuse.get().pk,
        "warning": UsageWarning.objects.filter(entitlement=entitlement).earliest("pk").pk,
    }  # fmt: skip


def _scheduled_change_id(manager, contract) -> int:
    from datetime import timedelta

    from django.utils import timezone

    from licensing import services as licensing

    today = timezone.localdate()
    return licensing.change_schedule(
        actor=manager, kind="quantity", entitlement_id=contract.entitlements.first().pk,
        quantity_after=30, effective_date=today + timedelta(days=5), on=today, reason="Matrix",
    ).pk  # fmt: skip


def _credit_policy_in_force() -> int:
    from django.utils import timezone

    from credits.selectors import credit_policy_in_force

    return credit_policy_in_force(on=timezone.localdate()).pk


def _last_event_seq() -> int:
    from audit.models import AuditEvent

    return AuditEvent.objects.latest("seq").seq


# --- end of the sec9b block -----------------------------------------------------------------


def _admins_export():
    from audit.services import export_request, export_run
    from tests.factories import admin_actor

    job = export_request(actor=admin_actor(), fmt="csv", filter={}, stream=False)
    return export_run(job_id=job.pk)


def _retention_policy_in_force() -> int:
    from django.utils import timezone

    from audit.retention import retention_policy_in_force

    return retention_policy_in_force(on=timezone.localdate()).pk


@pytest.fixture
def world(settings, tmp_path, customer_a, customer_b, manager, analyst, customer_user,
          other_customer_user):  # fmt: skip
    """Each customer with a contract, an entitlement, a change request and its credit, an issued
    credit under dispute, a breach case just detected and another confirmed with them (with its
    options, a notice, a call's attachment, a milestone), a usage warning, a scheduled change,
    and a deprovisioning run with a hold on another of its contracts: a real row of their own
    and of the other customer's behind every id. The
    catalogue, systems, rates, policies and the administrator's finished audit export of the
    whole timeline (other auditors: 404) are everyone's."""
    from licensing.models import ConnectedSystem

    settings.MEDIA_ROOT = tmp_path
    labelled = ConnectedSystem.objects.create(name="Matrix label", kind="asset_inventory")
    shared = {
        "system": labelled.pk,
        "rate": add_rate("EUR", "1.10").pk,
        "webhook_system": connected_system().pk,
        "export": _admins_export().pk,
        "retention_policy": _retention_policy_in_force(),
    }
    ids = {}
    for customer, user in ((customer_a, customer_user), (customer_b, other_customer_user)):
        contract = paid_contract(customer)
        credit = requested_credit(manager, contract)
        issued = issued_credit(manager, analyst, paid_contract(customer))
        ids[customer.code] = {
            **shared,
            "customer": customer.pk, "contract": contract.pk,
            "entitlement": contract.entitlements.first().pk, "credit": credit.pk,
            "change": credit.change_id, "policy": _credit_policy_in_force(),
            "plan": contract.lines.get().plan_id, "product": contract.lines.get().plan.product_id,
            "invoice": contract.invoices.get().pk, "issued": issued.pk,
            "dispute": open_dispute(user, issued).pk,
            "bundle": bundle_of(contract.lines.get().plan.product, code=customer.code).pk,
            "case": opened_case(contract.entitlements.first()).pk,
            "contract_history": contract.history.earliest("history_id").history_id,
            **_deprovisioning_ids(customer, manager),
            **_breach_ids(customer, manager, issued.contract.entitlements.first()),
            "scheduled_change": _scheduled_change_id(manager, contract),
        }  # fmt: skip
    for customer_ids in ids.values():
        customer_ids["event"] = _last_event_seq()
    return ids
