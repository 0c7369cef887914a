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
    return {"run": run.pk, "hold": hold.pk, "revocation_policy": revocation.pk}


def _admins_export():
    from audit.services import export_request, export_run
    from tests.factories import admin_actor

    job = export_request(actor=admin_actor(), fmt="csv", filter={}, stream=False)
    return export_run(job_id=job.pk)


@pytest.fixture
def world(settings, tmp_path, customer_a, customer_b, manager, analyst, customer_user,
          other_customer_user):  # fmt: skip
    """Each customer with a contract, an entitlement, a change request and its credit, an issued
    credit under dispute, a breach case, and a deprovisioning run with a hold on another of its
    contracts: a real row of their own and of the other customer's behind every id. The
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
            "change": credit.change_id, "policy": 1, "plan": contract.lines.get().plan_id,
            "product": contract.lines.get().plan.product_id,
            "invoice": contract.invoices.get().pk, "issued": issued.pk,
            "dispute": open_dispute(user, issued).pk,
            "bundle": bundle_of(contract.lines.get().plan.product, code=customer.code).pk,
            "case": opened_case(contract.entitlements.first()).pk,
            "contract_history": contract.history.earliest("history_id").history_id,
            **_deprovisioning_ids(customer, manager),
        }  # fmt: skip
    return ids
