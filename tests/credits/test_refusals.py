"""Each rule of who may do what has one home: the service enforces what the pages ask."""

import re

import pytest
from django.urls import reverse

from credits import services
from credits.models import ChangeRequest
from licensing import services as licensing_services
from licensing.errors import DomainError
from tests.factories import admin_actor
from tests.support import downgrade


def _suspend(contract):
    licensing_services.contract_transition(
        actor=admin_actor(), contract_id=contract.pk, transition="suspend", reason="Unpaid"
    )
    contract.refresh_from_db()
    return contract


@pytest.mark.parametrize("persona", ["customer_user", "manager"], indirect=True)
def test_nobody_requests_a_change_to_a_suspended_contract(persona, current_contract, today):
    contract = _suspend(current_contract)

    with pytest.raises(DomainError, match="only an active contract can be changed"):
        downgrade(persona, contract, 20, effective=today)

    assert not ChangeRequest.objects.exists()


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("customer_user", True), ("manager", True), ("analyst", True), ("approver", False),
     ("controller", False), ("auditor", False), ("other_customer_user", False),
     ("admin_user", True)],
    indirect=["persona"],
)  # fmt: skip
def test_the_refusal_answers_as_the_service_decides(persona, allowed, current_contract, today):
    refusal = services.change_request_refusal(actor=persona, contract=current_contract)

    assert (refusal is None) == allowed
    if allowed:
        assert downgrade(persona, current_contract, 20, effective=today).pk
    else:
        with pytest.raises(DomainError, match=re.escape(refusal)):
            downgrade(persona, current_contract, 20, effective=today)


@pytest.mark.parametrize("persona", ["manager", "analyst"], indirect=True)
def test_the_contract_page_offers_a_change_only_when_the_rule_allows_it(
    client, persona, current_contract
):
    client.force_login(persona)
    offer = "Request a change for the customer"

    before = client.get(current_contract.get_absolute_url()).content.decode()
    _suspend(current_contract)
    after = client.get(current_contract.get_absolute_url()).content.decode()

    assert offer in before
    assert offer not in after


def test_the_portal_refuses_a_suspended_contract_in_the_services_words(
    client, customer_user, current_contract
):
    contract = _suspend(current_contract)
    client.force_login(customer_user)

    response = client.get(reverse("credits_portal:request"), {"contract": contract.pk}, follow=True)

    assert services.change_request_refusal(actor=customer_user, contract=contract) in (
        response.content.decode()
    )
