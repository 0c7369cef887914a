"""Contracts through the API: lists, filters, scoping to a customer, creation."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from licensing import services
from licensing.models import Contract
from tests.factories import ContractFactory, PlanFactory, UserFactory, admin_actor

pytestmark = pytest.mark.django_db

# Session, user, role, permissions, count, page and the lines with their plans: none per row.
CONTRACT_LIST_QUERIES = 9


def numbers(response) -> list[str]:
    return [c["number"] for c in response.json()["results"]]


def new_contract(customer, plan, /, **changes):
    return {
        "number": "C-2026-0100",
        "customer": customer.pk,
        "account_manager": "maya",
        "term_start": "2026-03-01",
        "term_end": "2027-03-01",
        "lines": [{"plan": plan.code, "quantity": 5}],
        "reason": "Signed order form",
        **changes,
    }


def test_contract_list_answers_a_page_with_lines_and_the_customer(api, analyst, customer_a):
    contract = ContractFactory(customer=customer_a, number="C-1", quantity=4)

    response = api(analyst).get("/api/v1/contracts/")

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (1, None, None)
    row = body["results"][0]
    assert (row["id"], row["customer_name"], row["status"]) == (
        contract.pk,
        "Northwind Traders",
        "active",
    )
    assert [(line["quantity"], line["period_amount"]) for line in row["lines"]] == [
        (4, "120.000000")
    ]


def test_contract_list_puts_the_latest_term_first(api, analyst):
    for year in (2021, 2023, 2022):
        ContractFactory(number=f"C-{year}", term_start=date(year, 1, 1), term_end=date(2030, 1, 1))

    response = api(analyst).get("/api/v1/contracts/")

    assert numbers(response) == ["C-2023", "C-2022", "C-2021"]


def test_contract_list_orders_by_the_field_asked_for(api, analyst):
    for number in ("C-B", "C-C", "C-A"):
        ContractFactory(number=number)

    response = api(analyst).get("/api/v1/contracts/", {"ordering": "-number"})

    assert numbers(response) == ["C-C", "C-B", "C-A"]


def test_contract_list_filters_by_status(api, analyst):
    ContractFactory(number="C-DRAFT", active=False)
    ContractFactory(number="C-ACTIVE")

    response = api(analyst).get("/api/v1/contracts/", {"status": "draft"})

    assert numbers(response) == ["C-DRAFT"]


def test_contract_list_filters_by_customer(api, analyst, customer_a, customer_b):
    ContractFactory(customer=customer_a, number="C-A")
    ContractFactory(customer=customer_b, number="C-B")

    response = api(analyst).get("/api/v1/contracts/", {"customer": customer_b.pk})

    assert numbers(response) == ["C-B"]


@pytest.mark.parametrize("term", ["globex", "Globex Corp", "C-GLO"])
def test_contract_search_matches_number_customer_name_and_code(
    api, analyst, customer_a, customer_b, term
):
    ContractFactory(customer=customer_a, number="C-NOR-1")
    ContractFactory(customer=customer_b, number="C-GLO-1")

    response = api(analyst).get("/api/v1/contracts/", {"q": term})

    assert numbers(response) == ["C-GLO-1"]


def test_an_unknown_status_filter_is_refused_under_status(api, analyst):
    response = api(analyst).get("/api/v1/contracts/", {"status": "lapsed"})

    assert response.status_code == 400
    assert "status" in response.json()


def test_contract_list_query_count_does_not_grow_with_rows(
    api, manager, django_assert_max_num_queries
):
    client = api(manager)
    ContractFactory.create_batch(3, account_manager=manager)
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/contracts/")
    plan = PlanFactory()
    ContractFactory.create_batch(12, account_manager=manager, plan=plan, quantity=2)

    with django_assert_max_num_queries(CONTRACT_LIST_QUERIES) as many:
        response = client.get("/api/v1/contracts/")

    assert response.json()["count"] == 15
    assert len(many) == len(few)


def test_contract_detail_names_the_transitions_the_reader_may_make(api, manager, auditor):
    contract = ContractFactory()

    as_manager = api(manager).get(f"/api/v1/contracts/{contract.pk}/").json()
    as_auditor = api(auditor).get(f"/api/v1/contracts/{contract.pk}/").json()

    # The term has not ended yet, so expiry is not offered either.
    assert as_manager["allowed_transitions"] == ["suspend", "terminate"]
    assert as_auditor["allowed_transitions"] == []


def test_customer_user_lists_only_their_customers_contracts(
    api, customer_user, customer_a, customer_b
):
    ContractFactory(customer=customer_a, number="C-MINE")
    ContractFactory(customer=customer_b, number="C-THEIRS")

    response = api(customer_user).get("/api/v1/contracts/")

    assert numbers(response) == ["C-MINE"]


def test_a_user_without_a_role_sees_no_contracts(api, customer_a):
    contract = ContractFactory(customer=customer_a)
    nobody = UserFactory(username="nobody")

    listed = api(nobody).get("/api/v1/contracts/")
    detail = api(nobody).get(f"/api/v1/contracts/{contract.pk}/")

    assert (listed.json()["count"], detail.status_code) == (0, 404)


@pytest.mark.parametrize(
    ("persona", "status"),
    [("customer_user", 200), ("other_customer_user", 404), ("analyst", 200)],
    indirect=["persona"],
)
def test_only_staff_and_the_contracts_customer_see_a_contract(api, customer_a, persona, status):
    contract = ContractFactory(customer=customer_a)

    response = api(persona).get(f"/api/v1/contracts/{contract.pk}/")

    assert response.status_code == status


def test_customer_user_filtering_by_another_customer_sees_nothing(api, customer_user, customer_b):
    ContractFactory(customer=customer_b)

    response = api(customer_user).get("/api/v1/contracts/", {"customer": customer_b.pk})
    unknown = api(customer_user).get("/api/v1/contracts/", {"customer": 999_999})

    # Another customer's id reads as one that does not exist: nothing listed, nothing told.
    assert response.status_code == unknown.status_code == 400
    assert response.json() == unknown.json()


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("manager", 201),
        ("admin_user", 201),
        ("analyst", 403),
        ("approver", 403),
        ("controller", 403),
        ("auditor", 403),
        ("customer_user", 403),
    ],
    indirect=["persona"],
)
def test_only_account_managers_and_admins_create_contracts(
    api, manager, customer_a, persona, status
):
    plan = PlanFactory()

    response = api(persona).post(
        "/api/v1/contracts/", new_contract(customer_a, plan), format="json"
    )

    assert response.status_code == status
    assert Contract.objects.filter(number="C-2026-0100").exists() == (status == 201)


def test_creating_a_contract_answers_a_draft_priced_from_the_plan(api, manager, customer_a):
    plan = PlanFactory(unit_price="12.50", currency="EUR")

    response = api(manager).post(
        "/api/v1/contracts/", new_contract(customer_a, plan), format="json"
    )

    body = response.json()
    assert (body["status"], body["currency"], body["account_manager"]) == ("draft", "EUR", "maya")
    assert body["billing_anchor"] == "2026-03-01"
    assert [(line["plan_code"], line["unit_price"]) for line in body["lines"]] == [
        (plan.code, "12.500000")
    ]
    assert body["allowed_transitions"] == ["activate"]


def test_creating_a_contract_records_history_and_one_audit_event(api, manager, customer_a):
    plan = PlanFactory()
    events_before = AuditEvent.objects.count()

    response = api(manager).post(
        "/api/v1/contracts/", new_contract(customer_a, plan), format="json"
    )

    contract = Contract.objects.get(pk=response.json()["id"])
    history = contract.history.latest()
    assert (history.history_user, history.history_change_reason) == (manager, "Signed order form")
    assert AuditEvent.objects.count() == events_before + 1
    event = AuditEvent.objects.latest("seq")
    assert (event.action, event.object_id, event.actor) == (
        "contract.create",
        str(contract.pk),
        manager,
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"term_end": "2026-02-01"}, "term_end"),
        ({"term_end": "2026-03-01"}, "term_end"),
        ({"lines": []}, "lines"),
        ({"lines": [{"plan": "NO-SUCH-PLAN", "quantity": 1}]}, "lines"),
        ({"lines": [{"plan": "PLAN-X", "quantity": 0}]}, "lines"),
        ({"lines": [{"plan": "PLAN-X", "quantity": 2**31}]}, "lines"),
        ({"number": "C-TAKEN"}, "number"),
        ({"customer": 999999}, "customer"),
        ({"commitment_years": 11}, "commitment_years"),
    ],
)
def test_an_invalid_contract_is_refused_with_an_error_on_the_field(
    api, manager, customer_a, change, field
):
    plan = PlanFactory(code="PLAN-X")
    ContractFactory(number="C-TAKEN")

    response = api(manager).post(
        "/api/v1/contracts/", new_contract(customer_a, plan, **change), format="json"
    )

    assert response.status_code == 400
    assert field in response.json()
    assert not Contract.objects.filter(customer=customer_a).exists()


def test_a_contract_cannot_mix_currencies(api, manager, customer_a):
    usd, eur = PlanFactory(currency="USD"), PlanFactory(currency="EUR")
    lines = [{"plan": usd.code, "quantity": 1}, {"plan": eur.code, "quantity": 1}]

    response = api(manager).post(
        "/api/v1/contracts/", new_contract(customer_a, usd, lines=lines), format="json"
    )

    assert response.status_code == 400
    assert "EUR, USD" in str(response.json()["lines"])


def test_a_terminated_contracts_detail_offers_no_transitions(api, manager):
    contract = ContractFactory()
    services.contract_transition(
        actor=admin_actor(), contract_id=contract.pk, transition="terminate", reason="Breach"
    )

    response = api(manager).get(f"/api/v1/contracts/{contract.pk}/")

    assert (response.json()["status"], response.json()["allowed_transitions"]) == ("terminated", [])
