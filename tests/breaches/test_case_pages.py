"""The account manager's case queue and case page."""

import json
from datetime import timedelta

import pytest

from breaches.models import BreachCase
from tests.breaches.cases import opened_case
from tests.breaches.usage import daily, report_usage
from tests.factories import ContractFactory, EntitlementFactory, UserFactory

pytestmark = pytest.mark.django_db

QUEUE = "/breaches/cases/"


@pytest.fixture
def seats(customer_a):
    return EntitlementFactory(contract=ContractFactory(customer=customer_a), quantity=50,
                              name="Analytics seats")  # fmt: skip


def rows(response) -> list[int]:
    return [case.pk for case in response.context["page"]]


def test_the_queue_lists_open_cases_and_leaves_closed_ones_out_unless_asked(
    client, manager, seats, customer_b
):
    open_case = opened_case(seats)
    closed = opened_case(EntitlementFactory(contract=ContractFactory(customer=customer_b)),
                         state=BreachCase.State.RESOLVED)  # fmt: skip
    client.force_login(manager)

    assert rows(client.get(QUEUE)) == [open_case.pk]
    assert rows(client.get(QUEUE, {"state": "resolved"})) == [closed.pk]
    assert set(rows(client.get(QUEUE, {"state": ""}))) == {open_case.pk, closed.pk}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"severity": "high"}, ["high"]),
        ({"age": "week"}, ["new"]),
        ({"age": "month"}, ["high"]),
        ({"age": "older"}, ["old"]),
        ({"ordering": "-severity"}, ["high", "old", "new"]),
        ({"ordering": "detected"}, ["old", "high", "new"]),
    ],
)
def test_the_queue_filters_by_severity_and_age_and_sorts(
    client, manager, customer_a, today, query, expected
):
    contract = ContractFactory(customer=customer_a)
    made = {
        "new": opened_case(EntitlementFactory(contract=contract), severity="low",
                           detected_on=today - timedelta(days=2)),
        "high": opened_case(EntitlementFactory(contract=contract), severity="high",
                            detected_on=today - timedelta(days=12)),
        "old": opened_case(EntitlementFactory(contract=contract), severity="medium",
                           detected_on=today - timedelta(days=45)),
    }  # fmt: skip
    client.force_login(manager)

    assert rows(client.get(QUEUE, query)) == [made[name].pk for name in expected]


def test_the_queue_filters_by_owner(client, manager, customer_a):
    other = UserFactory(username="tomas", role="account_manager")
    contract = ContractFactory(customer=customer_a)
    mine = opened_case(EntitlementFactory(contract=contract), owner=manager)
    opened_case(EntitlementFactory(contract=contract), owner=other)
    client.force_login(manager)

    assert rows(client.get(QUEUE, {"owner": manager.pk})) == [mine.pk]


def test_an_unknown_owner_is_a_filter_error_not_an_empty_list_of_everything(client, manager, seats):
    opened_case(seats)
    client.force_login(manager)

    response = client.get(QUEUE, {"owner": 999999})

    assert response.status_code == 200 and rows(response) == []
    assert "owner" in response.context["filter"].errors


def test_the_queue_pages_by_25(client, manager, customer_a):
    contract = ContractFactory(customer=customer_a)
    for _ in range(26):
        opened_case(EntitlementFactory(contract=contract))
    client.force_login(manager)

    assert len(rows(client.get(QUEUE))) == 25
    assert len(rows(client.get(QUEUE, {"page": 2}))) == 1


def test_an_htmx_request_gets_the_table_only(client, manager, seats):
    opened_case(seats)
    client.force_login(manager)

    body = client.get(QUEUE, HTTP_HX_REQUEST="true").content.decode()

    assert '<table class="case-queue">' in body and "<html" not in body


# Session, user, role, the owner choices, the count, the page of cases (joins and the next
# milestone due in the same query).
QUEUE_QUERIES = 6


@pytest.mark.parametrize("cases", [1, 6])
def test_the_queue_costs_the_same_queries_for_one_case_or_six(
    client, manager, customer_a, django_assert_num_queries, cases
):
    contract = ContractFactory(customer=customer_a)
    for _ in range(cases):
        opened_case(EntitlementFactory(contract=contract), owner=manager)
    client.force_login(manager)

    with django_assert_num_queries(QUEUE_QUERIES):
        response = client.get(QUEUE)

    assert len(rows(response)) == cases


def test_the_case_page_charts_daily_usage_against_the_entitlement_and_the_tolerance(
    client, manager, seats, today
):
    first = today - timedelta(days=10)
    report_usage(manager, seats, daily(first - timedelta(days=1), 49, 60, 61, 58, 50))
    case = opened_case(seats, first_day=first, daily=[60, 61, 58])
    case.evidence["tolerance"] = "1.1"
    case.save()
    client.force_login(manager)

    response = client.get(f"/breaches/cases/{case.pk}/")

    body = response.content.decode()
    config = json.loads(body.split('id="evidence-chart" type="application/json">')[1]
                        .split("</script>")[0])  # fmt: skip
    used, entitled, allowed = config["data"]["datasets"]
    labels = config["data"]["labels"]
    at = labels.index(f"{first:%-d %b}")
    assert used["data"][at - 1 : at + 4] == [49, 60, 61, 58, 50]
    assert set(entitled["data"]) == {50} and set(allowed["data"]) == {55}
    assert f"Case {case.pk}: Analytics seats" in body
    assert "61 seats" in body and "+22%" in body
    assert "Detected: 61 seats in use against 50 entitled." in body


def test_a_customer_cannot_open_the_staff_case_page(client, customer_user, seats):
    case = opened_case(seats)
    client.force_login(customer_user)

    assert client.get(f"/breaches/cases/{case.pk}/").status_code == 403
