"""The catalogue and customers: who may read, who may add, and what a bad request answers."""

from decimal import Decimal

import pytest

from audit.models import AuditEvent
from licensing import services
from licensing.models import Customer, Plan, Product
from tests.factories import CustomerFactory, PlanFactory, ProductFactory, admin_actor

pytestmark = pytest.mark.django_db


def new_customer():
    return {
        "code": "initech",
        "name": "Initech",
        "country": "US",
        "billing_email": "ap@initech.test",
    }


def new_product():
    return {"sku": "ATL", "name": "Atlas", "description": "Seats for Atlas"}


def new_plan():
    return {
        "code": "ATL-STD-EUR-M",
        "name": "Atlas Standard (monthly)",
        "product": ProductFactory(sku="ATL").pk,
        "tier": "standard",
        "currency": "EUR",
        "billing_cycle": "monthly",
        "pricing_model": "per_seat",
        "unit_price": "18.50",
    }


# Customers


def test_staff_list_every_customer_by_name(api, analyst, customer_a, customer_b):
    response = api(analyst).get("/api/v1/customers/")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert [c["code"] for c in body["results"]] == ["globex", "northwind"]


def test_customer_user_lists_only_their_own_customer(api, customer_user, customer_b):
    response = api(customer_user).get("/api/v1/customers/")

    assert [c["code"] for c in response.json()["results"]] == ["northwind"]


def test_customer_user_cannot_see_another_customer(api, customer_user, customer_b):
    response = api(customer_user).get(f"/api/v1/customers/{customer_b.pk}/")

    assert response.status_code == 404


def test_customer_list_filters_by_search_and_country(api, analyst, customer_a, customer_b):
    CustomerFactory(code="nordic", name="Nordic Paper", country="SE")

    by_search = api(analyst).get("/api/v1/customers/", {"q": "glob"}).json()["results"]
    by_country = api(analyst).get("/api/v1/customers/", {"country": "SE"}).json()["results"]

    assert [c["code"] for c in by_search] == ["globex"]
    assert [c["code"] for c in by_country] == ["nordic"]


def test_customer_list_answers_in_pages_of_25(api, analyst):
    CustomerFactory.create_batch(26)

    first = api(analyst).get("/api/v1/customers/").json()
    second = api(analyst).get(first["next"]).json()

    assert first["count"] == 26 and len(first["results"]) == 25 and first["previous"] is None
    assert len(second["results"]) == 1 and second["next"] is None
    assert second["previous"] is not None


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
def test_only_account_managers_and_admins_add_customers(api, persona, status):
    response = api(persona).post("/api/v1/customers/", new_customer(), format="json")

    assert response.status_code == status
    assert Customer.objects.filter(code="initech").exists() == (status == 201)


def test_adding_a_customer_answers_it_and_records_who_did_it(api, manager):
    response = api(manager).post("/api/v1/customers/", new_customer(), format="json")

    customer = Customer.objects.get(code="initech")
    assert response.json()["id"] == customer.pk
    assert response.json()["name"] == "Initech"
    assert customer.history.latest().history_user == manager
    event = AuditEvent.objects.get(action="customer.create", object_id=str(customer.pk))
    assert event.actor == manager


def test_a_duplicate_customer_code_is_refused_under_code(api, manager, customer_a):
    response = api(manager).post(
        "/api/v1/customers/", {**new_customer(), "code": "northwind"}, format="json"
    )

    assert response.status_code == 400
    assert "code" in response.json()


# Products


def test_every_signed_in_user_reads_the_product_catalogue(api, customer_user):
    product = ProductFactory(sku="ATL", name="Atlas")

    listed = api(customer_user).get("/api/v1/products/")
    detail = api(customer_user).get(f"/api/v1/products/{product.pk}/")

    assert [p["sku"] for p in listed.json()["results"]] == ["ATL"]
    assert detail.json() == {"id": product.pk, "sku": "ATL", "name": "Atlas", "description": ""}


def test_product_list_filters_by_sku(api, analyst):
    ProductFactory(sku="ATL")
    ProductFactory(sku="BCN")

    response = api(analyst).get("/api/v1/products/", {"sku": "BCN"})

    assert [p["sku"] for p in response.json()["results"]] == ["BCN"]


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("controller", 201),
        ("admin_user", 201),
        ("manager", 403),
        ("analyst", 403),
        ("auditor", 403),
        ("customer_user", 403),
    ],
    indirect=["persona"],
)
def test_only_controllers_and_admins_add_products(api, persona, status):
    response = api(persona).post("/api/v1/products/", new_product(), format="json")

    assert response.status_code == status
    assert Product.objects.filter(sku="ATL").exists() == (status == 201)


def test_adding_a_product_is_audited(api, controller):
    response = api(controller).post("/api/v1/products/", new_product(), format="json")

    event = AuditEvent.objects.get(action="product.create")
    assert event.object_id == str(response.json()["id"])
    assert event.actor == controller


# Plans


def test_plan_list_filters_by_currency_and_tier(api, analyst):
    PlanFactory(code="USD-STD", currency="USD", tier="standard")
    PlanFactory(code="EUR-STD", currency="EUR", tier="standard")
    PlanFactory(code="EUR-ENT", currency="EUR", tier="enterprise")

    response = api(analyst).get("/api/v1/plans/", {"currency": "EUR", "tier": "standard"})

    assert [p["code"] for p in response.json()["results"]] == ["EUR-STD"]


def test_plan_detail_emits_the_price_as_a_string(api, analyst):
    plan = PlanFactory(unit_price="30.00")

    response = api(analyst).get(f"/api/v1/plans/{plan.pk}/")

    assert response.json()["unit_price"] == "30.000000"


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("controller", 201),
        ("admin_user", 201),
        ("manager", 403),
        ("approver", 403),
        ("auditor", 403),
        ("customer_user", 403),
    ],
    indirect=["persona"],
)
def test_only_controllers_and_admins_add_plans(api, persona, status):
    response = api(persona).post("/api/v1/plans/", new_plan(), format="json")

    assert response.status_code == status
    assert Plan.objects.filter(code="ATL-STD-EUR-M").exists() == (status == 201)


def test_adding_a_plan_normalises_the_currency_and_is_audited(api, controller):
    response = api(controller).post(
        "/api/v1/plans/", {**new_plan(), "currency": "eur"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["currency"] == "EUR"
    plan = Plan.objects.get(code="ATL-STD-EUR-M")
    assert plan.history.latest().history_user == controller
    assert AuditEvent.objects.filter(action="plan.create", object_id=str(plan.pk)).count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currency": "XYZ"}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"unit_price": "-1"}, "unit_price"),
        ({"product": None}, "product"),
        ({"tier": "platinum"}, "tier"),
        ({"code": ""}, "code"),
    ],
)
def test_an_invalid_plan_is_refused_with_an_error_on_the_field(api, controller, change, field):
    response = api(controller).post("/api/v1/plans/", {**new_plan(), **change}, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Plan.objects.exists()


# Bundles


def test_every_signed_in_user_reads_bundles_with_their_items(api, customer_user):
    atlas, beacon = ProductFactory(sku="ATL"), ProductFactory(sku="BCN")
    services.bundle_create(
        actor=admin_actor(),
        code="SUITE",
        name="Suite",
        items=[(atlas, 1, Decimal("30")), (beacon, 2, Decimal("12.5"))],
    )

    response = api(customer_user).get("/api/v1/bundles/")

    bundle = response.json()["results"][0]
    assert bundle["code"] == "SUITE"
    items = sorted((i["product"], i["quantity"], i["standalone_price"]) for i in bundle["items"])
    assert items == [("ATL", 1, "30.000000"), ("BCN", 2, "12.500000")]
