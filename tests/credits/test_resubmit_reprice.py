"""A sent-back credit resubmitted with corrected inputs is priced again by the engine, under its
frozen policy, and its approval chain is the one the new amount needs."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEvent
from credits import services
from credits.models import Credit
from credits.selectors import policy_rules
from tests.support import EFFECTIVE, MARCH, Snapshot, downgrade, paid_contract, seat_credit

pytestmark = pytest.mark.django_db


def _sent_back(requester, analyst, contract, after=20, **options) -> Credit:
    credit = downgrade(requester, contract, after, **options).credit
    return services.credit_send_back(actor=analyst, credit_id=credit.pk, reason="Check seats")


def test_resubmitting_corrected_seats_prices_the_credit_again(manager, analyst, seat_contract):
    credit = _sent_back(manager, analyst, seat_contract, after=20)
    line = credit.change.lines.get()

    credit = services.credit_resubmit(
        actor=manager, credit_id=credit.pk, reason="35 seats stay, not 20",
        corrections=[{"contract_line": line.contract_line_id, "quantity_after": 35}],
    )  # fmt: skip

    expected = seat_credit(paid="1500.00", seats=50, after=35, period=MARCH, effective=EFFECTIVE)
    line.refresh_from_db()
    credit.change.refresh_from_db()
    assert (credit.status, credit.amount) == (Credit.Status.PENDING, expected)
    assert (line.quantity_before, line.quantity_after, line.credit) == (50, 35, expected)
    assert "15 of 50 seats released" in line.explanation
    assert credit.change.total == expected
    assert credit.change.quote["total_credit"] == str(expected)
    event = AuditEvent.objects.get(action="credit.resubmit")
    assert event.data["repriced"] is True and event.data["amount"] == str(expected)


def test_a_corrected_amount_gets_the_approval_chain_it_needs(manager, analyst, customer_a):
    contract = paid_contract(customer_a, seats=100)  # USD 3,000.00 paid for March
    credit = _sent_back(manager, analyst, contract, after=90)  # a small credit: one step
    assert credit.steps.count() == 1

    credit = services.credit_resubmit(
        actor=manager, credit_id=credit.pk, reason="Only 10 seats stay",
        corrections=[{"contract_line": contract.lines.get().pk, "quantity_after": 10}],
    )  # fmt: skip

    rules = policy_rules(credit.policy)
    assert [s.role for s in credit.steps.order_by("order")] == [
        s.role for s in rules.steps_for(credit.amount)
    ]
    assert credit.steps.count() == 2
    assert list(credit.steps.order_by("order").values_list("status", flat=True)) == [
        "pending", "waiting",
    ]  # fmt: skip


def test_an_unchanged_resubmission_keeps_the_frozen_quote(manager, analyst, seat_contract):
    credit = _sent_back(manager, analyst, seat_contract, after=20)
    before = (credit.amount, credit.change.quote)

    credit = services.credit_resubmit(
        actor=manager, credit_id=credit.pk, reason="As it was",
        corrections=[{"contract_line": seat_contract.lines.get().pk, "quantity_after": 20}],
    )  # fmt: skip

    credit.change.refresh_from_db()
    assert (credit.amount, credit.change.quote) == before
    assert AuditEvent.objects.get(action="credit.resubmit").data["repriced"] is False


def test_the_staff_page_resubmits_corrected_seats(client, manager, analyst, seat_contract):
    credit = _sent_back(manager, analyst, seat_contract, after=20)
    field = f"line_{seat_contract.lines.get().pk}"
    client.force_login(manager)
    page = client.get(credit.get_absolute_url()).content.decode()
    assert f'name="{field}"' in page and "seats after" in page

    response = client.post(
        reverse("credits:credit-resubmit", args=[credit.pk]),
        {"reason": "35 stay", "credit_form": "credit_note", "version": credit.version,
         field: 35},
        follow=True,
    )  # fmt: skip

    credit.refresh_from_db()
    expected = seat_credit(paid="1500.00", seats=50, after=35, period=MARCH, effective=EFFECTIVE)
    assert credit.amount == expected
    assert f"for USD {expected:,}" in response.content.decode()


def test_a_correction_to_nothing_is_refused_beside_the_field_and_changes_nothing(
    client, manager, analyst, seat_contract
):
    credit = _sent_back(manager, analyst, seat_contract, after=20)
    field = f"line_{seat_contract.lines.get().pk}"
    client.force_login(manager)
    snapshot = Snapshot(credit)

    response = client.post(
        reverse("credits:credit-resubmit", args=[credit.pk]),
        {"reason": "None stay", "credit_form": "credit_note", "version": credit.version,
         field: 0},
    )  # fmt: skip

    assert response.status_code == 400
    form = response.context["resubmit_form"]
    assert "request a termination instead" in form.errors[field][0]
    body = response.content.decode()
    assert 'class="form-errors"' in body and f'href="#id_resubmit_{field}"' in body
    assert "autofocus" in str(form[field])
    assert snapshot.unchanged(), snapshot.changes()


def test_a_customer_resubmits_corrected_seats_in_the_portal(
    client, customer_user, analyst, current_contract, today, period
):
    credit = _sent_back(customer_user, analyst, current_contract, after=40, effective=today)
    field = f"line_{current_contract.lines.get().pk}"
    client.force_login(customer_user)

    response = client.post(
        reverse("credits_portal:resubmit", args=[credit.pk]),
        {"reason": "Only 30 seats stay", "credit_form": "credit_note", field: 30},
    )

    assert response.status_code == 302
    credit.refresh_from_db()
    expected = seat_credit(paid="1500.00", seats=50, after=30, period=period, effective=today)
    assert (credit.status, credit.amount) == (Credit.Status.PENDING, expected)
    assert credit.change.lines.get().quantity_after == 30


def test_the_api_resubmits_with_corrections(manager, analyst, seat_contract):
    credit = _sent_back(manager, analyst, seat_contract, after=20)
    api = APIClient()
    api.force_authenticate(manager)

    response = api.post(
        f"/api/v1/credits/credits/{credit.pk}/resubmit/",
        {"reason": "35 stay", "corrections": [
            {"contract_line": seat_contract.lines.get().pk, "quantity_after": 35}]},
        format="json",
    )  # fmt: skip

    expected = seat_credit(paid="1500.00", seats=50, after=35, period=MARCH, effective=EFFECTIVE)
    assert response.status_code == 200, response.json()
    assert response.json()["amount"] == str(expected)


def test_the_api_names_a_bad_correction(manager, analyst, seat_contract):
    credit = _sent_back(manager, analyst, seat_contract, after=20)
    api = APIClient()
    api.force_authenticate(manager)

    response = api.post(
        f"/api/v1/credits/credits/{credit.pk}/resubmit/",
        {"reason": "x", "corrections": [{"contract_line": "a", "quantity_after": -1}]},
        format="json",
    )

    assert response.status_code == 400
    assert "corrections" in response.json()
    credit.refresh_from_db()
    assert credit.status == Credit.Status.SENT_BACK
