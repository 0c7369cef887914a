"""The world the security tables probe: a real row of each kind for each of two customers."""

import pytest

from tests.support import (
    add_rate,
    bundle_of,
    connected_system,
    issued_credit,
    open_dispute,
    paid_contract,
    placed_hold,
    requested_credit,
    terminated_run,
)


@pytest.fixture
def world(settings, tmp_path, customer_a, customer_b, manager, analyst, customer_user,
          other_customer_user):  # fmt: skip
    """Each customer with a contract, an entitlement, a change request and its credit, an issued
    credit under dispute, a hold and a deprovisioning run: a real row of their own and of the
    other customer's behind every id. The catalogue, systems and rates are everyone's."""
    settings.MEDIA_ROOT = tmp_path
    shared = {"system": connected_system().pk, "rate": add_rate("EUR", "1.10").pk}
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
            "dispute": open_dispute(user, issued).pk, "hold": placed_hold(manager, contract).pk,
            "run": terminated_run(manager, customer).pk,
            "bundle": bundle_of(contract.lines.get().plan.product, code=customer.code).pk,
        }  # fmt: skip
    return ids
