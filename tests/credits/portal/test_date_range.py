"""Dates outside 1900-2200 are refused on the credit forms, beside their field, writing nothing."""

import pytest
from django.urls import reverse

from credits.models import ChangeRequest, CreditPolicyVersion
from tests.credits.pages.test_policies import _draft

pytestmark = pytest.mark.django_db

RANGE_MESSAGE = "Give a date between 1900-01-01 and 2200-12-31."


@pytest.mark.parametrize("day", ["1899-12-31", "2201-01-01"])
def test_a_policy_cannot_take_effect_outside_the_date_range(client, controller, day):
    client.force_login(controller)

    response = _draft(client, effective_from=day)

    assert response.status_code == 400
    assert RANGE_MESSAGE in response.context["form"].errors["effective_from"]
    assert not CreditPolicyVersion.objects.filter(number=2).exists()


@pytest.mark.parametrize("day", ["1899-12-31", "2201-01-01"])
def test_a_change_request_cannot_take_effect_outside_the_date_range(
    client, customer_user, seat_contract, day
):
    client.force_login(customer_user)
    line = seat_contract.lines.get()
    data = {
        "contract": seat_contract.pk,
        "intent": "downgrade",
        "effective_date": day,
        "credit_form": "credit_note",
        "note": "",
        f"line_{line.pk}_quantity_after": 20,
        "action": "request",
        "expected_total": "0",
    }

    response = client.post(reverse("credits_portal:request"), data)

    assert response.status_code == 400
    assert RANGE_MESSAGE in response.context["form"].errors["effective_date"]
    assert not ChangeRequest.objects.exists()
