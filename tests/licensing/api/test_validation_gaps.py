"""Inputs the API once took or choked on: unknown countries, customer users as account managers,
dates outside 1900-2200, entitlements outside their contract's term, and ids that are not numbers.
Each is a 400 (or a 404 for a path) naming what is wrong, and writes nothing."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from licensing.models import Contract, Customer, Entitlement
from tests.factories import ContractFactory, PlanFactory

pytestmark = pytest.mark.django_db


def test_an_unknown_country_code_is_refused_naming_the_country(api, manager):
    response = api(manager).post(
        "/api/v1/customers/", {"code": "QQ-1", "name": "Nowhere Ltd", "country": "QQ"}
    )

    assert response.status_code == 400
    assert "ISO 3166-1" in response.json()["country"][0]
    assert not Customer.objects.filter(code="QQ-1").exists()


def test_a_known_country_code_is_kept_in_capitals(api, manager):
    response = api(manager).post(
        "/api/v1/customers/", {"code": "DE-1", "name": "Berlin GmbH", "country": "de"}
    )

    assert response.status_code == 201
    assert Customer.objects.get(code="DE-1").country == "DE"


def _contract_body(customer, plan, **changes):
    return {
        "number": "C-GAP-1",
        "customer": customer.pk,
        "term_start": "2026-03-01",
        "term_end": "2027-03-01",
        "lines": [{"plan": plan.code, "quantity": 5}],
        "reason": "Signed order form",
        **changes,
    }


def test_a_customer_user_cannot_be_a_contracts_account_manager(
    api, manager, customer_a, customer_user
):
    body = _contract_body(customer_a, PlanFactory(), account_manager=customer_user.username)

    response = api(manager).post("/api/v1/contracts/", body, format="json")

    assert response.status_code == 400
    assert "cannot manage a contract" in response.json()["account_manager"][0]
    assert not Contract.objects.filter(number="C-GAP-1").exists()


def test_a_staff_user_can_be_a_contracts_account_manager(api, manager, customer_a):
    body = _contract_body(customer_a, PlanFactory(), account_manager=manager.username)

    response = api(manager).post("/api/v1/contracts/", body, format="json")

    assert response.status_code == 201
    assert response.json()["account_manager"] == manager.username


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("term_start", "1899-12-31"),
        ("term_end", "2201-01-01"),
        ("term_start", "0001-01-01"),
        ("term_end", "9999-12-31"),
    ],
)
def test_contract_dates_outside_1900_to_2200_are_refused(api, manager, customer_a, field, value):
    body = _contract_body(customer_a, PlanFactory(), **{field: value})

    response = api(manager).post("/api/v1/contracts/", body, format="json")

    assert response.status_code == 400
    assert "between 1900-01-01 and 2200-12-31" in response.json()[field][0]
    assert not Contract.objects.filter(number="C-GAP-1").exists()


def test_the_last_and_first_days_of_the_range_are_accepted(api, manager, customer_a):
    body = _contract_body(customer_a, PlanFactory(), term_start="1900-01-01", term_end="2200-12-31")

    response = api(manager).post("/api/v1/contracts/", body, format="json")

    assert response.status_code == 201


def _entitlement_body(contract, **changes):
    return {
        "contract": contract.pk,
        "kind": "seat_pool",
        "name": "Atlas seats",
        "scope": "product:ATL",
        "quantity": 25,
        "starts_on": contract.term_start.isoformat(),
        "ends_on": contract.term_end.isoformat(),
        "reason": "Order form line 1",
        **changes,
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("starts_on", "2025-12-31", "cannot start before its contract's term"),
        ("ends_on", "2027-01-02", "cannot run past it"),
        ("starts_on", "1800-01-01", "between 1900-01-01 and 2200-12-31"),
        ("ends_on", "2300-01-01", "between 1900-01-01 and 2200-12-31"),
    ],
)
def test_an_entitlement_outside_its_contracts_term_is_refused(api, manager, field, value, message):
    contract = ContractFactory()  # the pinned year's term: 2026-01-01 up to 2027-01-01
    body = _entitlement_body(contract, **{field: value})

    response = api(manager).post("/api/v1/entitlements/", body, format="json")

    assert response.status_code == 400
    assert message in response.json()[field][0]
    assert not Entitlement.objects.filter(contract=contract).exists()


def test_an_entitlement_spanning_exactly_its_contracts_term_is_granted(api, manager):
    contract = ContractFactory()

    response = api(manager).post(
        "/api/v1/entitlements/", _entitlement_body(contract), format="json"
    )

    assert response.status_code == 201


PAGING = ("page", "page_size", "limit", "offset")


def _operations():
    """Every API operation of the published schema, so a new route cannot be forgotten."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation.get("parameters", [])


def _integer_query_parameters():
    for path, method, parameters in _operations():
        if method != "get" or "{" in path:
            continue
        for parameter in parameters:
            integer = parameter["schema"].get("type") == "integer"
            if integer and parameter["in"] == "query" and parameter["name"] not in PAGING:
                yield path, parameter["name"]


def _paths_with_ids():
    for path, method, parameters in _operations():
        names = [p["name"] for p in parameters if p["in"] == "path"]
        if names and method in ("get", "post"):
            yield path, method, names


@pytest.mark.parametrize(("path", "name"), list(_integer_query_parameters()))
def test_a_non_integer_id_filter_answers_400_naming_it(api, admin_user, path, name):
    response = api(admin_user).get(path, {name: "abc"})

    assert response.status_code == 400, response.content
    assert name in response.json()


@pytest.mark.parametrize(("path", "method", "names"), list(_paths_with_ids()))
def test_a_non_integer_id_in_a_path_answers_404_with_a_message(
    api, admin_user, path, method, names
):
    url = path
    for name in names:
        url = url.replace("{" + name + "}", "activate" if name == "transition" else "abc")

    response = getattr(api(admin_user), method)(url, {}, format="json")

    assert response.status_code == 404, response.content
    assert response.json()["detail"]
