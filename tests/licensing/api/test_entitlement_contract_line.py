"""Entitlements show and accept the contract line they are sold on (breach true-ups are priced
from it)."""

import pytest

from licensing.models import Entitlement
from tests.factories import ContractFactory, EntitlementFactory

pytestmark = pytest.mark.django_db


def _body(contract, **changes):
    return {
        "contract": contract.pk, "kind": "seat_pool", "name": "Atlas seats",
        "scope": "product:ATL", "quantity": 25, "starts_on": "2026-03-01",
        "ends_on": "2027-01-01", "reason": "Order form line 1", **changes,
    }  # fmt: skip


def test_an_entitlement_is_created_on_a_line_of_its_contract(api, manager):
    contract = ContractFactory()
    line = contract.lines.get()

    response = api(manager).post(
        "/api/v1/entitlements/", _body(contract, contract_line=line.pk), format="json"
    )

    assert response.status_code == 201 and response.json()["contract_line"] == line.pk
    assert Entitlement.objects.get(pk=response.json()["id"]).contract_line == line


def test_a_line_of_another_contract_is_refused_under_its_field(api, manager):
    contract, other = ContractFactory(), ContractFactory()

    response = api(manager).post(
        "/api/v1/entitlements/", _body(contract, contract_line=other.lines.get().pk),
        format="json",
    )  # fmt: skip

    assert response.status_code == 400 and "contract_line" in response.json()
    assert not Entitlement.objects.filter(name="Atlas seats").exists()


def test_an_entitlement_reads_with_its_contract_line(api, analyst):
    contract = ContractFactory()
    entitlement = EntitlementFactory(contract=contract, contract_line=contract.lines.get())

    response = api(analyst).get(f"/api/v1/entitlements/{entitlement.pk}/")

    assert response.json()["contract_line"] == contract.lines.get().pk
