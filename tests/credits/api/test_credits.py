"""Reading credits through the API: who sees which, filters, the detail with its steps."""

import pytest

from credits import services
from tests.factories import UserFactory, admin_actor
from tests.support import paid_contract, requested_credit

pytestmark = pytest.mark.django_db

URL = "/api/v1/credits/credits/"


def numbers(response) -> list[str]:
    return [row["contract_number"] for row in response.json()["results"]]


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
def test_each_user_lists_the_credits_they_may_see(api, persona, visible, customer_a, customer_b):
    requested_credit(admin_actor(), paid_contract(customer_a, number="north"))
    requested_credit(admin_actor(), paid_contract(customer_b, number="globex"))

    response = api(persona).get(URL)

    assert response.status_code == 200
    assert set(numbers(response)) == visible


@pytest.mark.parametrize(("owner", "expected"), [("own", 200), ("other", 404)])
def test_a_customer_reads_only_their_own_credit(
    api, customer_user, customer_a, customer_b, owner, expected
):
    credit = requested_credit(
        admin_actor(), paid_contract(customer_a if owner == "own" else customer_b)
    )

    response = api(customer_user).get(f"{URL}{credit.pk}/")

    assert response.status_code == expected


def test_a_user_without_a_customer_or_a_role_sees_no_credits(api, customer_a):
    requested_credit(admin_actor(), paid_contract(customer_a))

    response = api(UserFactory(username="nobody")).get(URL)

    assert response.json()["count"] == 0


def test_anonymous_users_cannot_read_credits(api, customer_a):
    credit = requested_credit(admin_actor(), paid_contract(customer_a))

    assert api().get(URL).status_code in (401, 403)
    assert api().get(f"{URL}{credit.pk}/").status_code in (401, 403)


def test_the_detail_shows_the_credit_with_its_approval_steps(api, analyst, customer_a):
    contract = paid_contract(customer_a, number="C-1", seats=500)
    credit = requested_credit(admin_actor(), contract, quantity_after=200)

    response = api(analyst).get(f"{URL}{credit.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert {key: body[key] for key in ("id", "status", "amount", "currency", "form", "number",
                                       "contract", "contract_number", "customer_name",
                                       "policy_version", "calculated_by", "version",
                                       "change")} == {
        "id": credit.pk, "status": "pending", "amount": "4645.16", "currency": "USD",
        "form": "credit_note", "number": None, "contract": contract.pk,
        "contract_number": "C-1", "customer_name": "Northwind Traders",
        "policy_version": "credit/v1", "calculated_by": "factory-admin", "version": 1,
        "change": credit.change_id,
    }  # fmt: skip
    assert [(s["order"], s["role"], s["threshold"], s["status"], s["decided_by"])
            for s in body["steps"]] == [
        (1, "finance_analyst", "0.00", "pending", None),
        (2, "finance_approver", "1000.00", "waiting", None),
    ]  # fmt: skip
    assert body["steps"][0]["due_at"] is not None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=pending", {"pending", "discounted"}),
        ("status=rejected", {"rejected"}),
        ("form=future_discount", {"discounted"}),
        ("form=credit_note", {"pending", "rejected"}),
        ("", {"pending", "rejected", "discounted"}),
    ],
)
def test_credits_filter_by_status_and_form(api, analyst, other_analyst, customer_a, query,
                                           expected):  # fmt: skip
    requested_credit(admin_actor(), paid_contract(customer_a, number="pending"))
    rejected = requested_credit(admin_actor(), paid_contract(customer_a, number="rejected"))
    services.credit_reject(actor=analyst, credit_id=rejected.pk, reason="Not agreed")
    requested_credit(admin_actor(), paid_contract(customer_a, number="discounted"),
                     form="future_discount")  # fmt: skip

    response = api(other_analyst).get(f"{URL}?{query}")

    assert set(numbers(response)) == expected


def test_credits_filter_by_customer(api, analyst, customer_a, customer_b):
    requested_credit(admin_actor(), paid_contract(customer_a, number="north"))
    requested_credit(admin_actor(), paid_contract(customer_b, number="globex"))

    response = api(analyst).get(f"{URL}?customer={customer_b.pk}")

    assert numbers(response) == ["globex"]


def test_a_customer_filtering_by_another_customer_sees_nothing(
    api, customer_user, customer_a, customer_b
):
    requested_credit(admin_actor(), paid_contract(customer_a, number="north"))
    requested_credit(admin_actor(), paid_contract(customer_b, number="globex"))

    response = api(customer_user).get(f"{URL}?customer={customer_b.pk}")
    unknown = api(customer_user).get(f"{URL}?customer=999999")

    # Another customer's id reads as one that does not exist: nothing listed, nothing told.
    assert response.status_code == unknown.status_code == 400
    assert response.json() == unknown.json()


def test_the_newest_credit_comes_first(api, analyst, customer_a):
    for number in ("first", "second", "third"):
        requested_credit(admin_actor(), paid_contract(customer_a, number=number))

    response = api(analyst).get(URL)

    assert numbers(response) == ["third", "second", "first"]


def test_the_list_query_count_does_not_grow_with_its_rows(
    api, analyst, customer_a, django_assert_num_queries
):
    client = api(analyst)
    requested_credit(admin_actor(), paid_contract(customer_a, number="one"))
    with django_assert_num_queries(LIST_QUERIES):
        client.get(URL)
    for number in ("two", "three"):
        requested_credit(admin_actor(), paid_contract(customer_a, number=number))

    with django_assert_num_queries(LIST_QUERIES):
        response = client.get(URL)

    assert response.json()["count"] == 3


# Session, user, role, count, the page with its joins, and the steps with who decided them.
LIST_QUERIES = 6
