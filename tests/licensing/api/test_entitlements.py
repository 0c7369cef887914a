"""Entitlements through the API: lists, filters, scoping to a customer, granting."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from licensing import services
from licensing.models import ConnectedSystem, Entitlement, LedgerEntry
from tests.factories import ContractFactory, EntitlementFactory, admin_actor

pytestmark = pytest.mark.django_db

# Session, user, role, permissions, count, page and the enforcing systems: none per row.
ENTITLEMENT_LIST_QUERIES = 8


def names(response) -> list[str]:
    return [e["name"] for e in response.json()["results"]]


def new_entitlement(contract, /, **changes):
    return {
        "contract": contract.pk,
        "kind": "seat_pool",
        "name": "Atlas seats",
        "scope": "product:ATL",
        "quantity": 25,
        "starts_on": "2026-03-01",
        "ends_on": "2027-01-01",
        "reason": "Order form line 1",
        **changes,
    }


def test_entitlement_list_answers_a_page_with_the_contract_number(api, analyst):
    entitlement = EntitlementFactory(contract=ContractFactory(number="C-9"), name="Seats")

    response = api(analyst).get("/api/v1/entitlements/")

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (1, None, None)
    row = body["results"][0]
    assert (row["id"], row["contract_number"], row["state"], row["version"]) == (
        entitlement.pk,
        "C-9",
        "active",
        entitlement.version,
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"state": "suspended"}, ["Suspended seats"]),
        ({"kind": "feature_flag"}, ["SSO flag"]),
        ({"q": "sso"}, ["SSO flag"]),
        ({"q": "KEY-123"}, ["Suspended seats"]),
        ({"ordering": "-name"}, ["Suspended seats", "SSO flag", "Active seats"]),
    ],
)
def test_entitlement_list_filters_and_orders(api, analyst, query, expected):
    contract = ContractFactory()
    EntitlementFactory(contract=contract, name="Active seats")
    EntitlementFactory(contract=contract, name="Suspended seats", state="suspended", key="KEY-123")
    EntitlementFactory(
        contract=contract, name="SSO flag", kind="feature_flag", scope="feature:sso", quantity=1
    )

    response = api(analyst).get("/api/v1/entitlements/", query)

    assert names(response) == expected


def test_entitlement_list_filters_by_contract(api, analyst):
    EntitlementFactory(name="First")
    second = EntitlementFactory(name="Second")

    response = api(analyst).get("/api/v1/entitlements/", {"contract": second.contract_id})

    assert names(response) == ["Second"]


def test_an_unknown_state_filter_is_refused_under_state(api, analyst):
    response = api(analyst).get("/api/v1/entitlements/", {"state": "lapsed"})

    assert response.status_code == 400
    assert "state" in response.json()


def test_entitlement_list_query_count_does_not_grow_with_rows(
    api, manager, django_assert_max_num_queries
):
    client = api(manager)
    idp = ConnectedSystem.objects.create(name="Okta", kind="identity_provider")
    contract = ContractFactory()
    EntitlementFactory.create_batch(3, contract=contract, enforced_by=[idp])
    with CaptureQueriesContext(connection) as few:
        client.get("/api/v1/entitlements/")
    EntitlementFactory.create_batch(12, contract=ContractFactory(), enforced_by=[idp])

    with django_assert_max_num_queries(ENTITLEMENT_LIST_QUERIES) as many:
        response = client.get("/api/v1/entitlements/")

    assert response.json()["count"] == 15
    assert response.json()["results"][0]["enforced_by"] == ["Okta"]
    assert len(many) == len(few)


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("manager", ["suspend", "start_grace", "hold", "revoke"]),
        ("admin_user", ["suspend", "start_grace", "hold", "revoke"]),
        ("auditor", []),
        ("customer_user", []),
    ],
    indirect=["persona"],
)
def test_entitlement_detail_names_the_transitions_the_reader_may_make(
    api, customer_a, persona, allowed
):
    entitlement = EntitlementFactory(contract=ContractFactory(customer=customer_a))

    response = api(persona).get(f"/api/v1/entitlements/{entitlement.pk}/")

    assert response.json()["allowed_transitions"] == allowed


def test_customer_user_lists_only_their_customers_entitlements(
    api, customer_user, customer_a, customer_b
):
    EntitlementFactory(contract=ContractFactory(customer=customer_a), name="Mine")
    EntitlementFactory(contract=ContractFactory(customer=customer_b), name="Theirs")

    response = api(customer_user).get("/api/v1/entitlements/")

    assert names(response) == ["Mine"]


@pytest.mark.parametrize(
    ("persona", "status"),
    [("customer_user", 200), ("other_customer_user", 404), ("auditor", 200)],
    indirect=["persona"],
)
def test_only_staff_and_the_customer_see_an_entitlement(api, customer_a, persona, status):
    entitlement = EntitlementFactory(contract=ContractFactory(customer=customer_a))

    response = api(persona).get(f"/api/v1/entitlements/{entitlement.pk}/")

    assert response.status_code == status


def test_customer_user_filtering_by_another_customers_contract_sees_nothing(
    api, customer_user, customer_b
):
    theirs = EntitlementFactory(contract=ContractFactory(customer=customer_b))

    response = api(customer_user).get("/api/v1/entitlements/", {"contract": theirs.contract_id})
    unknown = api(customer_user).get("/api/v1/entitlements/", {"contract": 999_999})

    # Another customer's contract reads as one that does not exist: nothing listed or told.
    assert response.status_code == unknown.status_code == 400
    assert response.json() == unknown.json()


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("manager", 201),
        ("admin_user", 201),
        ("analyst", 403),
        ("controller", 403),
        ("auditor", 403),
        ("customer_user", 403),
    ],
    indirect=["persona"],
)
def test_only_account_managers_and_admins_grant_entitlements(api, customer_a, persona, status):
    contract = ContractFactory(customer=customer_a)

    response = api(persona).post("/api/v1/entitlements/", new_entitlement(contract), format="json")

    assert response.status_code == status
    assert Entitlement.objects.filter(name="Atlas seats").exists() == (status == 201)


def test_granting_an_entitlement_records_ledger_history_and_one_audit_event(api, manager):
    contract = ContractFactory()
    events_before = AuditEvent.objects.count()

    response = api(manager).post("/api/v1/entitlements/", new_entitlement(contract), format="json")

    assert (response.json()["state"], response.json()["quantity"]) == ("pending", 25)
    entitlement = Entitlement.objects.get(pk=response.json()["id"])
    entry = entitlement.ledger.get()
    assert (entry.action, entry.quantity_delta, entry.actor) == ("grant", 0, manager)
    history = entitlement.history.latest()
    assert (history.history_user, history.history_change_reason) == (manager, "Order form line 1")
    assert AuditEvent.objects.count() == events_before + 1
    assert AuditEvent.objects.latest("seq").action == "entitlement.create"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ends_on": "2026-02-01"}, "ends_on"),
        ({"ends_on": "2026-03-01"}, "ends_on"),
        ({"kind": "licence"}, "kind"),
        ({"quantity": -1}, "quantity"),
        ({"quantity": 2**63}, "quantity"),
        ({"contract": 999999}, "contract"),
        ({"name": ""}, "name"),
    ],
)
def test_an_invalid_entitlement_is_refused_with_an_error_on_the_field(api, manager, change, field):
    contract = ContractFactory()

    response = api(manager).post(
        "/api/v1/entitlements/", new_entitlement(contract, **change), format="json"
    )

    assert response.status_code == 400
    assert field in response.json()
    assert not Entitlement.objects.exists()


def test_a_terminated_contract_grants_nothing_new(api, manager):
    contract = ContractFactory(number="C-OLD")
    services.contract_transition(
        actor=admin_actor(), contract_id=contract.pk, transition="terminate", reason="Breach"
    )
    ledger_before = LedgerEntry.objects.count()

    response = api(manager).post("/api/v1/entitlements/", new_entitlement(contract), format="json")

    assert response.status_code == 400
    assert "C-OLD" in response.json()["detail"]
    assert LedgerEntry.objects.count() == ledger_before
    assert not Entitlement.objects.exists()


def test_entitlement_dates_are_answered_as_iso_dates(api, analyst):
    entitlement = EntitlementFactory(starts_on=date(2026, 2, 1), ends_on=date(2027, 2, 1))

    body = api(analyst).get(f"/api/v1/entitlements/{entitlement.pk}/").json()

    assert (body["starts_on"], body["ends_on"]) == ("2026-02-01", "2027-02-01")
