from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from audit.models import AuditEvent
from credits.models import ChangeLine, ChangeRequest, Credit
from licensing.money import round_money
from tests.support import paid_contract, publish_policy

pytestmark = pytest.mark.django_db

URL = reverse("credits_portal:request")


def form_data(contract, *, intent="downgrade", effective, form="credit_note", **lines):
    """The fields the page posts; `lines` maps a contract line's field suffix to a value."""
    data = {
        "contract": contract.pk,
        "intent": intent,
        "effective_date": effective.isoformat(),
        "credit_form": form,
        "note": "",
    }
    data.update({f"line_{key}": value for key, value in lines.items()})
    return data


def seats_after(contract, value, *, effective, **kwargs):
    line = contract.lines.get()
    return form_data(
        contract, effective=effective, **{f"{line.pk}_quantity_after": value}, **kwargs
    )


def expected_seat_credit(*, paid, released, of, today, period) -> Decimal:
    remaining, days = (period[1] - today).days, (period[1] - period[0]).days
    return round_money(Decimal(paid) * released / of * remaining / days, "USD")


def writes() -> tuple[int, ...]:
    return (
        ChangeRequest.objects.count(),
        ChangeLine.objects.count(),
        Credit.objects.count(),
        AuditEvent.objects.count(),
    )


def test_the_page_offers_the_contracts_lines_and_the_policys_choices(
    client, customer_user, seat_contract
):
    client.force_login(customer_user)

    response = client.get(URL, {"contract": seat_contract.pk})

    form = response.context["form"]
    line = seat_contract.lines.get()
    assert response.status_code == 200
    assert [value for value, _ in form.fields["intent"].choices] == [
        "downgrade",
        "pause",
        "terminate",
    ]
    assert "credit_note" in dict(form.fields["credit_form"].choices)
    assert f'name="line_{line.pk}_quantity_after"' in response.content.decode()
    assert [(row.contract_line.pk, row.quantity_now) for row in form.lines] == [(line.pk, 50)]


def test_a_customer_with_one_active_contract_goes_straight_to_it(
    client, customer_user, seat_contract
):
    client.force_login(customer_user)

    response = client.get(URL)

    assert response.context["contract"] == seat_contract


def test_a_customer_with_several_contracts_chooses_one_first(
    client, customer_user, customer_a, seat_contract, period
):
    second = paid_contract(customer_a, period=period, seats=10)
    client.force_login(customer_user)

    response = client.get(URL)

    assert response.templates[0].name == "credits_portal/request_choose.html"
    assert {c.pk for c in response.context["contracts"]} == {seat_contract.pk, second.pk}


def test_another_customers_contract_is_a_404(client, customer_user, their_contract, today):
    client.force_login(customer_user)

    assert client.get(URL, {"contract": their_contract.pk}).status_code == 404
    response = client.post(
        URL, {**seats_after(their_contract, 20, effective=today), "action": "request"}
    )
    assert response.status_code == 404
    assert writes()[0] == 0


def test_seeing_the_quote_shows_it_exactly_and_writes_nothing(
    client, customer_user, seat_contract, today, period
):
    client.force_login(customer_user)
    before = writes()

    response = client.post(
        URL, {**seats_after(seat_contract, 20, effective=today), "action": "preview"}
    )

    expected = expected_seat_credit(paid=1500, released=30, of=50, today=today, period=period)
    preview = response.context["preview"]
    assert response.status_code == 200
    assert preview.total == expected
    assert f"USD {expected:,}" in response.content.decode()
    assert "30 of 50 seats released" in preview.lines[0].quote.explanation
    assert "50 → 20 seats" in response.content.decode()
    assert preview.policy.number == 1
    assert writes() == before


# Every query the quote page makes for a one-line contract, pinned so that none creeps in.
# Three of them decide which credit forms are offered, whatever the number of lines: the later
# lines a deferral could go to, the smaller plans (one query for all lines), a later invoice.
QUOTE_PREVIEW_QUERIES = 25


def test_the_quote_preview_makes_a_fixed_number_of_queries(
    client, customer_user, seat_contract, today, django_assert_num_queries
):
    client.force_login(customer_user)
    data = {**seats_after(seat_contract, 20, effective=today), "action": "preview"}
    client.post(URL, data)  # the first request warms the session and Django's caches

    with django_assert_num_queries(QUOTE_PREVIEW_QUERIES):
        response = client.post(URL, data)

    assert response.status_code == 200
    assert response.context["preview"].lines


# The same for a two-line contract (a seat line and a usage line, both ended). Each line's
# inputs are still read line by line (its invoice, prepaid future, ledger quantity, earlier
# credits): five queries a line more than the one-line count, pinned so that the growth is seen.
TWO_LINE_QUOTE_PREVIEW_QUERIES = 30


def test_the_quote_preview_of_two_lines_makes_a_fixed_number_of_queries(
    client, customer_user, mixed_contract, today, django_assert_num_queries
):
    seat_line, call_line = mixed_contract.lines.order_by("pk")
    client.force_login(customer_user)
    data = form_data(mixed_contract, intent="terminate", effective=today,
                     **{f"{seat_line.pk}_quantity_after": 0,
                        f"{call_line.pk}_units_used": 100_000})  # fmt: skip
    data["action"] = "preview"
    client.post(URL, data)  # the first request warms the session and Django's caches

    with django_assert_num_queries(TWO_LINE_QUOTE_PREVIEW_QUERIES):
        response = client.post(URL, data)

    assert response.status_code == 200
    assert len(response.context["preview"].lines) == 2


def test_requesting_records_the_change_and_its_credit_with_the_quote_seen(
    client, customer_user, seat_contract, today
):
    client.force_login(customer_user)
    data = seats_after(seat_contract, 20, effective=today, form="future_discount")
    preview = client.post(URL, {**data, "action": "preview"}).context["preview"]

    response = client.post(URL, {**data, "action": "request", "expected_total": str(preview.total)})

    change = ChangeRequest.objects.get()
    credit = Credit.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("credits_portal:credit", args=[credit.pk])
    assert (change.contract, change.intent, change.effective_date, change.requested_by) == (
        seat_contract,
        "downgrade",
        today,
        customer_user,
    )
    assert change.total == credit.amount == preview.total
    assert change.quote["lines"][0]["explanation"] == preview.lines[0].quote.explanation
    assert (credit.status, credit.form) == (Credit.Status.PENDING, "future_discount")
    assert change.lines.get().quantity_after == 20
    assert AuditEvent.objects.filter(
        action="change_request.create", object_id=str(change.pk)
    ).exists()


def test_a_quote_that_changed_since_it_was_seen_is_shown_again_not_requested(
    client, customer_user, seat_contract, today
):
    client.force_login(customer_user)
    before = writes()

    response = client.post(
        URL,
        {
            **seats_after(seat_contract, 20, effective=today),
            "action": "request",
            "expected_total": "1.00",
        },
    )

    assert response.status_code == 409
    assert response.context["preview"] is not None
    assert (
        "The quote changed since you saw it"
        in [str(m) for m in get_messages(response.wsgi_request)][0]
    )
    assert writes() == before


def test_a_change_that_earns_nothing_is_recorded_and_confirmed(
    client, customer_user, customer_a, period, today
):
    unpaid = paid_contract(customer_a, period=period, paid=False)
    client.force_login(customer_user)
    data = seats_after(unpaid, 20, effective=today)

    response = client.post(URL, {**data, "action": "request", "expected_total": "0.00"})

    change = ChangeRequest.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("credits_portal:request-done", args=[change.pk])
    assert not Credit.objects.exists()
    body = client.get(response.url).content.decode()
    assert "No credit is due" in body and "nothing was paid" in body


def test_another_customers_confirmation_is_a_404(
    client, other_customer_user, customer_user, customer_a, period, today
):
    unpaid = paid_contract(customer_a, period=period, paid=False)
    client.force_login(customer_user)
    client.post(
        URL,
        {**seats_after(unpaid, 20, effective=today), "action": "request", "expected_total": "0.00"},
    )
    client.force_login(other_customer_user)

    url = reverse("credits_portal:request-done", args=[ChangeRequest.objects.get().pk])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"intent": ""}, "intent", "Choose a downgrade, a pause or a termination."),
        ({"credit_form": ""}, "credit_form", "Choose how you would like to receive the credit."),
        ({"credit_form": "cash"}, "credit_form", "Select a valid choice."),
        ({"effective_date": "yesterday"}, "effective_date", "Enter a valid date."),
        ({"days": -1}, "effective_date", "Choose today or a later day"),
        ({"seats": 50}, "seats", "You have 50 seats now"),
        ({"seats": -3}, "seats", "greater than or equal to 0"),
        ({"seats": ""}, "__all__", "Say what changes"),
    ],
)
def test_each_wrong_answer_is_a_400_with_a_message_beside_its_field(
    client, customer_user, seat_contract, today, change, field, message
):
    client.force_login(customer_user)
    line_field = f"line_{seat_contract.lines.get().pk}_quantity_after"
    data = seats_after(seat_contract, 20, effective=today + timedelta(days=change.pop("days", 0)))
    if "seats" in change:
        data[line_field] = change.pop("seats")
    data.update(change)
    before = writes()

    response = client.post(URL, {**data, "action": "request", "expected_total": "0"})

    errors = response.context["form"].errors
    key = line_field if field == "seats" else field
    assert response.status_code == 400
    assert message in " ".join(errors[key])
    assert writes() == before


def test_an_intent_the_policy_on_the_effective_date_does_not_credit_is_refused(
    client, customer_user, seat_contract, controller, today
):
    publish_policy(
        controller,
        effective_from=today + timedelta(days=10),
        summary="No pauses.",
        eligible_intents=["downgrade", "terminate"],
    )
    client.force_login(customer_user)
    data = form_data(seat_contract, intent="pause", effective=today + timedelta(days=15))

    response = client.post(URL, {**data, "action": "preview"})

    assert response.status_code == 400
    assert (
        "version 2 of the credit policy gives no credit for a pause"
        in (response.context["form"].errors["intent"][0])
    )


def test_a_termination_releases_every_line_and_needs_the_units_used(
    client, customer_user, mixed_contract, today
):
    seat_line, call_line = mixed_contract.lines.order_by("pk")
    client.force_login(customer_user)
    data = form_data(
        mixed_contract, intent="terminate", effective=today, **{f"{seat_line.pk}_quantity_after": 7}
    )

    refused = client.post(URL, {**data, "action": "preview"})
    accepted = client.post(
        URL, {**data, f"line_{call_line.pk}_units_used": 100_000, "action": "preview"}
    )

    assert refused.status_code == 400
    assert refused.context["form"].errors[f"line_{call_line.pk}_units_used"] == [
        "Give the units used so far: this commitment ends too."
    ]
    preview = accepted.context["preview"]
    assert accepted.status_code == 200
    assert [p.inputs.quantity_after for p in preview.lines] == [0, 0]
    assert "20 of 20 seats released" in preview.lines[0].quote.explanation
    assert preview.total == sum(p.quote.credit for p in preview.lines)


def test_a_downgrade_changes_only_the_lines_filled_in(client, customer_user, mixed_contract, today):
    seat_line, call_line = mixed_contract.lines.order_by("pk")
    client.force_login(customer_user)
    data = form_data(mixed_contract, effective=today, **{f"{call_line.pk}_units_used": 250_000})

    response = client.post(URL, {**data, "action": "preview"})

    preview = response.context["preview"]
    assert [p.inputs.contract_line for p in preview.lines] == [call_line]
    assert "The whole commitment is released" in preview.lines[0].quote.explanation


def test_back_from_the_quote_the_form_keeps_what_was_entered(
    client, customer_user, seat_contract, today
):
    client.force_login(customer_user)
    line_field = f"line_{seat_contract.lines.get().pk}_quantity_after"

    response = client.post(
        URL, {**seats_after(seat_contract, 20, effective=today), "action": "edit"}
    )

    assert response.status_code == 200
    assert response.context["preview"] is None
    assert response.context["form"][line_field].value() == "20"


def test_the_page_warns_of_a_request_on_the_contract_still_awaiting_a_decision(
    client, customer_user, pending_credit, seat_contract
):
    client.force_login(customer_user)

    body = client.get(URL, {"contract": seat_contract.pk}).content.decode()

    assert "A request on this contract is still awaiting a decision" in body
    assert reverse("credits_portal:credit", args=[pending_credit.pk]) in body


@pytest.mark.parametrize(
    ("persona", "status"),
    [("manager", 200), ("analyst", 200), ("approver", 403), ("auditor", 403)],
    indirect=["persona"],
)
def test_staff_who_may_request_open_the_form_for_a_customers_contract(
    client, persona, status, seat_contract
):
    client.force_login(persona)

    response = client.get(f"/portal/credits/request/?contract={seat_contract.pk}")

    assert response.status_code == status


def test_an_account_manager_requests_on_the_customers_behalf(client, manager, seat_contract,
                                                            today):  # fmt: skip
    from credits.models import ChangeRequest

    client.force_login(manager)
    line = seat_contract.lines.get()
    data = {"contract": seat_contract.pk, "intent": "downgrade", "effective_date": today,
            "credit_form": "credit_note", f"line_{line.pk}_quantity_after": 20}  # fmt: skip
    preview = client.post("/portal/credits/request/", {**data, "action": "quote"})
    total = preview.context["preview"].total

    response = client.post("/portal/credits/request/",
                           {**data, "action": "request", "expected_total": str(total)})  # fmt: skip

    change = ChangeRequest.objects.get()
    assert change.requested_by == manager
    assert response.status_code == 302
    assert response.url == f"/finance/credits/{change.credit.pk}/"


def test_an_account_manager_may_date_a_change_back_to_the_start_of_the_period(
    client, manager, seat_contract, period
):
    from credits.models import ChangeRequest

    client.force_login(manager)
    line = seat_contract.lines.get()
    data = {"contract": seat_contract.pk, "intent": "downgrade", "effective_date": period[0],
            "credit_form": "credit_note", f"line_{line.pk}_quantity_after": 20}  # fmt: skip
    preview = client.post("/portal/credits/request/", {**data, "action": "quote"})
    total = preview.context["preview"].total

    client.post("/portal/credits/request/",
                {**data, "action": "request", "expected_total": str(total)})  # fmt: skip

    assert ChangeRequest.objects.get().effective_date == period[0]
