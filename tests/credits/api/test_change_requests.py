"""Change requests through the API: who may make them, the frozen quote, the credit they open.

Requests by staff use fixed March dates; a customer's are made today (see conftest.py).
"""

from datetime import timedelta
from decimal import Decimal

import pytest

from audit.models import AuditEvent
from credits.models import ChangeRequest, Credit
from licensing import services
from tests.factories import ContractFactory, admin_actor
from tests.support import add_rate, paid_contract, request_change, requested_credit, seat_credit

pytestmark = pytest.mark.django_db

URL = "/api/v1/credits/change-requests/"


def downgrade(contract, *, quantity_after=20, effective=None, **changes) -> dict:
    """30 of 50 seats released, by default on 16 March; a customer's request gives `effective`."""
    return {
        "contract": contract.pk,
        "intent": "downgrade",
        "effective_date": effective.isoformat() if effective else "2026-03-16",
        "lines": [{"contract_line": contract.lines.get().pk, "quantity_after": quantity_after}],
        "form": "credit_note",
        "note": "Fewer seats from mid-March",
        **changes,
    }


def post(client, data):
    return client.post(URL, data, format="json")


def error_at(errors, path: tuple) -> list:
    for key in path:
        errors = errors[str(key) if isinstance(errors, dict) else key]
    return errors


# Creating


def test_a_customer_requests_a_downgrade_and_gets_the_quote_and_its_credit(
    api, customer_user, customer_a, today, period
):
    contract = paid_contract(customer_a, period=period)
    credit = str(seat_credit(paid="1500.00", seats=50, after=20, period=period, effective=today))

    response = post(api(customer_user), downgrade(contract, effective=today))

    assert response.status_code == 201, response.json()
    change = response.json()
    assert (change["intent"], change["effective_date"], change["total"]) == (
        "downgrade", today.isoformat(), credit,
    )  # fmt: skip
    assert (change["contract"], change["requested_by"], change["policy_version"]) == (
        contract.pk, "nina", "credit/v1",
    )  # fmt: skip
    assert change["quote"]["total_credit"] == credit
    assert "30 of 50 seats" in change["quote"]["lines"][0]["explanation"]
    assert [
        (line["quantity_before"], line["quantity_after"], line["amount_paid"], line["credit"])
        for line in change["lines"]
    ] == [(50, 20, "1500.00", credit)]


def test_the_answer_carries_the_credit_with_its_approval_steps(api, manager, customer_a):
    contract = paid_contract(customer_a)

    response = post(api(manager), downgrade(contract))

    credit = response.json()["credit"]
    assert credit["id"] == Credit.objects.get().pk
    assert (credit["status"], credit["amount"], credit["currency"], credit["form"]) == (
        "pending", "464.52", "USD", "credit_note",
    )  # fmt: skip
    assert [(s["order"], s["role"], s["threshold"], s["status"]) for s in credit["steps"]] == [
        (1, "finance_analyst", "0.00", "pending")
    ]


def test_a_request_is_recorded_with_its_audit_events(api, manager, customer_a):
    contract = paid_contract(customer_a)

    response = post(api(manager), downgrade(contract))

    change = ChangeRequest.objects.get(pk=response.json()["id"])
    assert (change.requested_by, change.note, change.total) == (
        manager, "Fewer seats from mid-March", change.credit.amount,
    )  # fmt: skip
    assert change.credit.calculated_by == manager
    actions = AuditEvent.objects.filter(actor=manager).values_list("action", flat=True)
    assert set(actions) >= {"change_request.create", "credit.calculate"}


def test_a_credit_of_a_thousand_or_more_needs_a_finance_approver_too(api, manager, customer_a):
    contract = paid_contract(customer_a, seats=500)

    response = post(api(manager), downgrade(contract, quantity_after=200))

    credit = response.json()["credit"]
    assert credit["amount"] == "4645.16"
    assert [(s["role"], s["threshold"], s["status"]) for s in credit["steps"]] == [
        ("finance_analyst", "0.00", "pending"),
        ("finance_approver", "1000.00", "waiting"),
    ]


@pytest.mark.parametrize(
    ("currency", "paid", "credit"),
    [("JPY", "150000", "46452"), ("USD", "1500.00", "464.52"), ("KWD", "150.000", "46.452")],
)
def test_amounts_carry_the_contract_currencys_minor_digits(
    api, manager, customer_a, currency, paid, credit
):
    contract = paid_contract(customer_a, currency=currency, unit_price=str(Decimal(paid) / 50))
    if currency != "USD":
        add_rate(currency, "1")  # the approval thresholds are in USD

    response = post(api(manager), downgrade(contract))

    change = response.json()
    assert (change["currency"], change["total"], change["credit"]["amount"]) == (
        currency, credit, credit,
    )  # fmt: skip
    assert change["lines"][0]["amount_paid"] == paid


def test_a_termination_releases_every_seat_without_quantity_after(api, manager, customer_a):
    contract = paid_contract(customer_a)
    data = downgrade(contract, intent="terminate")
    del data["lines"][0]["quantity_after"]

    response = post(api(manager), data)

    assert response.status_code == 201
    assert response.json()["total"] == "774.19"


def test_a_change_in_an_unpaid_period_opens_no_credit(api, manager, customer_a):
    contract = ContractFactory(customer=customer_a, quantity=50)

    response = post(api(manager), downgrade(contract))

    assert response.status_code == 201
    assert (response.json()["total"], response.json()["credit"]) == ("0.00", None)
    assert not Credit.objects.exists()


# Who may request


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("customer_user", 201),
        ("manager", 201),
        ("analyst", 201),
        ("admin_user", 201),
        ("approver", 403),
        ("controller", 403),
        ("auditor", 403),
    ],
    indirect=["persona"],
)
def test_who_may_request_a_change(api, persona, expected, customer_a, today, period):
    contract = paid_contract(customer_a, period=period)

    response = post(api(persona), downgrade(contract, effective=today))

    assert response.status_code == expected
    assert ChangeRequest.objects.count() == (1 if expected == 201 else 0)
    assert Credit.objects.count() == (1 if expected == 201 else 0)


@pytest.mark.parametrize("owner", ["own", "other"])
def test_a_customer_may_only_use_their_own_contracts(
    api, customer_user, customer_a, customer_b, owner, today, period
):
    contract = paid_contract(customer_a if owner == "own" else customer_b, period=period)

    response = post(api(customer_user), downgrade(contract, effective=today))

    if owner == "own":
        assert response.status_code == 201
    else:
        assert response.status_code == 400
        assert "contract" in response.json()
        assert not ChangeRequest.objects.exists()


def test_another_customers_contract_reads_like_one_that_does_not_exist(
    api, customer_user, customer_b, today, period
):
    contract = paid_contract(customer_b, period=period)
    client = api(customer_user)
    data = downgrade(contract, effective=today)

    theirs = post(client, data).json()["contract"]
    missing = post(client, data | {"contract": 999999}).json()["contract"]

    assert theirs == [missing[0].replace("999999", str(contract.pk))]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("customer_user", 400), ("manager", 201), ("analyst", 201), ("admin_user", 201)],
    indirect=["persona"],
)
def test_only_staff_may_backdate_a_change(api, persona, expected, customer_a, today, period):
    contract = paid_contract(customer_a, period=period)

    response = post(api(persona), downgrade(contract, effective=today - timedelta(days=1)))

    assert response.status_code == expected, response.json()
    if expected == 400:
        assert response.json() == {
            "effective_date": ["Choose today or a later day: a change cannot go back."]
        }
    assert ChangeRequest.objects.count() == (1 if expected == 201 else 0)


@pytest.mark.parametrize(("days", "expected"), [(-1, 400), (0, 201), (1, 201)])
def test_a_customer_requests_from_today_on(api, customer_user, customer_a, today, period, days,
                                           expected):  # fmt: skip
    contract = paid_contract(customer_a, period=period)

    response = post(api(customer_user), downgrade(contract, effective=today + timedelta(days)))

    assert response.status_code == expected, response.json()
    if expected == 400:
        assert list(response.json()) == ["effective_date"]
    assert ChangeRequest.objects.count() == (1 if expected == 201 else 0)


def test_anonymous_users_cannot_request(api, customer_a):
    contract = paid_contract(customer_a)

    response = post(api(), downgrade(contract))

    assert response.status_code in (401, 403)
    assert not ChangeRequest.objects.exists()


# Bad input


def another_contracts_line(contract) -> dict:
    other = ContractFactory(customer=contract.customer)
    return downgrade(contract) | {
        "lines": [{"contract_line": other.lines.get().pk, "quantity_after": 1}]
    }


def a_line_named_twice(contract) -> dict:
    line = {"contract_line": contract.lines.get().pk, "quantity_after": 20}
    return downgrade(contract) | {"lines": [line, line]}


def a_termination_keeping_seats(contract) -> dict:
    return downgrade(contract, quantity_after=5) | {"intent": "terminate"}


def without(name: str):
    def build(contract) -> dict:
        data = downgrade(contract)
        del data[name]
        return data

    return build


def without_quantity_after(contract) -> dict:
    data = downgrade(contract)
    del data["lines"][0]["quantity_after"]
    return data


BAD_INPUT = {
    "missing contract": (without("contract"), ("contract",)),
    "missing intent": (without("intent"), ("intent",)),
    "missing effective_date": (without("effective_date"), ("effective_date",)),
    "missing lines": (without("lines"), ("lines",)),
    "no lines": (lambda c: downgrade(c) | {"lines": []}, ("lines", "non_field_errors")),
    "unknown intent": (lambda c: downgrade(c, intent="upgrade"), ("intent",)),
    "unknown form": (lambda c: downgrade(c, form="cash"), ("form",)),
    "not a date": (lambda c: downgrade(c, effective_date="16/03/2026"), ("effective_date",)),
    "negative quantity_after": (lambda c: downgrade(c, quantity_after=-1),
                                ("lines", 0, "quantity_after")),
    "quantity_after beyond its column": (lambda c: downgrade(c, quantity_after=2**31),
                                         ("lines", 0, "quantity_after")),
    "downgrade without quantity_after": (without_quantity_after, ("lines", 0, "quantity_after")),
    "termination keeping seats": (a_termination_keeping_seats, ("lines", 0, "quantity_after")),
    "another contract's line": (another_contracts_line, ("lines", 0, "contract_line")),
    "a line named twice": (a_line_named_twice, ("lines", 1, "contract_line")),
}  # fmt: skip


@pytest.mark.parametrize(("build", "path"), BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_bad_input_answers_400_naming_the_field(api, manager, customer_a, build, path):
    contract = paid_contract(customer_a)

    response = post(api(manager), build(contract))

    assert response.status_code == 400, response.json()
    messages = error_at(response.json(), path)
    assert isinstance(messages, list) and all(isinstance(m, str) for m in messages)
    assert not ChangeRequest.objects.exists()


def test_a_refusal_by_the_engine_answers_400_and_records_nothing(api, manager, customer_a):
    contract = paid_contract(customer_a)

    response = post(api(manager), downgrade(contract, quantity_after=60))

    assert response.status_code == 400
    assert "quantity_after" in response.json()["detail"]
    assert not ChangeRequest.objects.exists()
    assert not AuditEvent.objects.filter(action="change_request.create").exists()


def test_a_terminated_contract_answers_400(api, manager, customer_a):
    contract = paid_contract(customer_a)
    services.contract_transition(
        actor=admin_actor(), contract_id=contract.pk, transition="terminate", reason="Ended"
    )

    response = post(api(manager), downgrade(contract))

    assert response.status_code == 400
    assert "terminated" in response.json()["detail"]


# Reading


@pytest.mark.parametrize(
    ("persona", "visible"),
    [
        ("manager", {"north", "globex"}),
        ("analyst", {"north", "globex"}),
        ("approver", {"north", "globex"}),
        ("controller", {"north", "globex"}),
        ("auditor", {"north", "globex"}),
        ("admin_user", {"north", "globex"}),
        ("customer_user", {"north"}),
        ("other_customer_user", {"globex"}),
    ],
    indirect=["persona"],
)
def test_each_user_lists_the_change_requests_they_may_see(
    api, persona, visible, customer_a, customer_b
):
    requested_credit(admin_actor(), paid_contract(customer_a, number="north"))
    requested_credit(admin_actor(), paid_contract(customer_b, number="globex"))

    response = api(persona).get(URL)

    assert response.status_code == 200
    assert {row["contract_number"] for row in response.json()["results"]} == visible


def test_a_customer_cannot_read_another_customers_change_request(api, customer_user, customer_b):
    credit = requested_credit(admin_actor(), paid_contract(customer_b))

    response = api(customer_user).get(f"{URL}{credit.change_id}/")

    assert response.status_code == 404


def test_a_change_request_reads_back_as_it_was_answered(api, manager, customer_a):
    client = api(manager)
    created = post(client, downgrade(paid_contract(customer_a))).json()

    response = client.get(f"{URL}{created['id']}/")

    assert response.status_code == 200
    assert response.json() == created


@pytest.mark.parametrize(
    ("query", "expected"),
    [("intent=terminate", ["B"]), ("intent=downgrade", ["A"]), ("", ["B", "A"])],
)
def test_change_requests_filter_by_intent(api, analyst, customer_a, query, expected):
    request_change(admin_actor(), paid_contract(customer_a, number="A"))
    request_change(admin_actor(), paid_contract(customer_a, number="B"), intent="terminate")

    response = api(analyst).get(f"{URL}?{query}")

    assert [row["contract_number"] for row in response.json()["results"]] == expected


def test_change_requests_filter_by_contract(api, analyst, customer_a):
    request_change(admin_actor(), paid_contract(customer_a, number="A"))
    wanted = paid_contract(customer_a, number="B")
    request_change(admin_actor(), wanted)

    response = api(analyst).get(f"{URL}?contract={wanted.pk}")

    assert [row["contract_number"] for row in response.json()["results"]] == ["B"]


def test_the_list_query_count_does_not_grow_with_its_rows(
    api, analyst, customer_a, django_assert_num_queries
):
    client = api(analyst)
    requested_credit(admin_actor(), paid_contract(customer_a, number="one"))
    with django_assert_num_queries(LIST_QUERIES):
        client.get(URL)
    for number in ("two", "three"):
        requested_credit(admin_actor(), paid_contract(customer_a, number=number))

    # The same count for three rows as for one.
    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(URL)

    assert response.json()["count"] == 3


# Session, user, role, count, page with its joins, lines, credit steps.
LIST_QUERIES = 7


def test_a_downgrade_to_no_seats_is_refused_as_a_termination(api, manager, customer_a):
    contract = paid_contract(customer_a)

    response = post(api(manager), downgrade(contract, quantity_after=0))

    assert response.status_code == 400, response.json()
    (message,) = response.json()["quantity_after"]
    assert "termination" in message
    assert not ChangeRequest.objects.exists()
    assert not Credit.objects.exists()
    assert contract.lines.get().quantity == 50
