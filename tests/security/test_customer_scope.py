"""What a customer's user reads through the API: their own rows, no one else's, no staff names.

The browsable API's HTML forms once listed every customer and contract in `<option>` lists,
filters told another customer's ids from unknown ones, and a credit carried who decided it and
finance's reasons.
"""

import pytest

from credits import services as credit_services
from tests.support import open_dispute, paid_contract, requested_credit

pytestmark = pytest.mark.django_db

BROWSER = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,*/*;q=0.8"}

API_PAGES = [
    "/api/v1/",
    "/api/v1/customers/",
    "/api/v1/contracts/",
    "/api/v1/entitlements/",
    "/api/v1/credits/change-requests/",
    "/api/v1/credits/credits/",
]


@pytest.fixture
def two_customers(customer_a, customer_b, manager, analyst):
    """Each customer with a contract and a credit that an analyst approved with a reason."""
    credits = {}
    for customer, number in ((customer_a, "NW-0001"), (customer_b, "GX-0001")):
        contract = paid_contract(customer, number=number)
        credit = requested_credit(manager, contract)
        credit_services.credit_approve(
            actor=analyst, credit_id=credit.pk, reason="Internal: margin is thin on this one"
        )
        credits[customer.code] = credit
    return credits


@pytest.mark.parametrize("url", API_PAGES)
def test_customer_sees_no_other_customer_anywhere_in_the_browsable_api(
    api, customer_user, two_customers, url
):
    response = api(customer_user).get(url, **BROWSER)

    body = response.content.decode()
    assert response.status_code == 200
    assert "Globex" not in body and "globex" not in body
    assert "GX-0001" not in body
    assert "<option" not in body


def test_staff_keep_the_browsable_api(api, manager):
    response = api(manager).get("/api/v1/contracts/", **BROWSER)

    assert response["Content-Type"].startswith("text/html")


FILTERS = [
    ("/api/v1/contracts/", "customer"),
    ("/api/v1/entitlements/", "contract"),
    ("/api/v1/credits/change-requests/", "customer"),
    ("/api/v1/credits/change-requests/", "contract"),
    ("/api/v1/credits/credits/", "customer"),
    ("/api/v1/credits/credits/", "contract"),
]


@pytest.mark.parametrize(("url", "name"), FILTERS)
def test_another_customers_id_in_a_filter_looks_like_an_unknown_one(
    api, customer_user, two_customers, url, name
):
    theirs = two_customers["globex"]
    other_id = theirs.customer_id if name == "customer" else theirs.contract_id
    client = api(customer_user)

    another = client.get(url, {name: other_id})
    unknown = client.get(url, {name: 999_999})

    assert another.status_code == unknown.status_code == 400
    assert another.json() == unknown.json()


def test_a_customers_own_id_in_a_filter_still_filters(api, customer_user, two_customers):
    ours = two_customers["northwind"]

    response = api(customer_user).get("/api/v1/credits/credits/", {"contract": ours.contract_id})

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [ours.pk]


STAFF_WORDS = ["maya", "priya", "decided_by", "calculated_by", "Internal:"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/credits/credits/",
        "/api/v1/credits/change-requests/",
        "/api/v1/contracts/",
    ],
)
def test_a_customer_reads_no_staff_name_or_internal_reason(api, customer_user, two_customers, url):
    ours = two_customers["northwind"]
    ours.contract.account_manager = ours.calculated_by
    ours.contract.save()

    response = api(customer_user).get(url)

    body = response.content.decode()
    assert response.status_code == 200 and response.json()["count"] >= 1
    assert not [word for word in STAFF_WORDS if word in body]


def test_a_customer_reads_its_own_credit_detail_without_staff_names(
    api, customer_user, two_customers
):
    ours = two_customers["northwind"]

    response = api(customer_user).get(f"/api/v1/credits/credits/{ours.pk}/")

    assert response.status_code == 200
    data = response.json()
    assert data["amount"] and data["steps"]
    keys = set(data) | {key for step in data["steps"] for key in step}
    assert not {"decided_by", "reason", "calculated_by"} & keys


def test_staff_still_read_who_decided_and_why(api, approver, two_customers):
    ours = two_customers["northwind"]

    response = api(approver).get(f"/api/v1/credits/credits/{ours.pk}/")

    first = response.json()["steps"][0]
    assert first["decided_by"] == "priya"
    assert first["reason"] == "Internal: margin is thin on this one"


@pytest.fixture
def answered_dispute(settings, tmp_path, two_customers, customer_user, analyst):
    """Northwind's user disputed its credit; the analyst priya rejected the dispute."""
    settings.MEDIA_ROOT = tmp_path
    dispute = open_dispute(customer_user, two_customers["northwind"])
    return credit_services.dispute_reject(
        actor=analyst, dispute_id=dispute.pk, reason="The seat count stands."
    )


@pytest.mark.parametrize(
    "url", ["/api/v1/credits/disputes/", "/api/v1/credits/disputes/{dispute}/",
            "/api/v1/customers/{customer}/statement/"],
)  # fmt: skip
def test_a_customer_reads_its_disputes_and_statement_without_staff_names(
    api, customer_user, answered_dispute, url
):
    path = url.format(dispute=answered_dispute.pk, customer=answered_dispute.credit.customer_id)

    response = api(customer_user).get(path)

    body = response.content.decode()
    assert response.status_code == 200
    assert answered_dispute.credit.number in body
    assert not [word for word in [*STAFF_WORDS, "resolved_by"] if word in body]


def test_a_customer_reads_finances_answer_to_its_dispute_but_not_who_gave_it(
    api, customer_user, answered_dispute
):
    response = api(customer_user).get(f"/api/v1/credits/disputes/{answered_dispute.pk}/")

    data = response.json()
    assert (data["status"], data["resolution"]) == ("dismissed", "The seat count stands.")
    assert data["raised_by"] == "nina" and "resolved_by" not in data


def test_staff_read_who_answered_a_dispute(api, approver, answered_dispute):
    response = api(approver).get(f"/api/v1/credits/disputes/{answered_dispute.pk}/")

    assert response.json()["resolved_by"] == "priya"
