"""The customer's usage page: a chart per entitlement of daily usage against what is entitled."""

import json
from datetime import timedelta

import pytest

from tests.breaches.usage import daily, report_usage
from tests.factories import ContractFactory, EntitlementFactory

pytestmark = pytest.mark.django_db

URL = "/portal/breaches/usage/"


def chart(response, entitlement) -> dict:
    return json.loads(
        response.content.decode()
        .split(f'id="usage-chart-{entitlement.pk}" type="application/json">')[1]
        .split("</script>")[0]
    )


@pytest.fixture
def seats(customer_a):
    return EntitlementFactory(contract=ContractFactory(customer=customer_a), quantity=50,
                              name="Analytics seats")  # fmt: skip


def test_a_customer_sees_daily_usage_against_the_entitled_quantity(
    client, customer_user, manager, seats, today
):
    start = today - timedelta(days=4)
    report_usage(manager, seats, daily(start, 48, 52, 55))
    client.force_login(customer_user)

    response = client.get(URL)

    assert response.status_code == 200
    config = chart(response, seats)
    days = config["data"]["labels"]
    assert len(days) == 90 and days[-1] == f"{today:%-d %b}"
    used, entitled = config["data"]["datasets"]
    assert used["label"] == "Seats in use"
    assert used["data"][-5:] == [48, 52, 55, None, None]
    assert entitled["label"] == "Entitled: 50 seats" and set(entitled["data"]) == {50}
    body = response.content.decode()
    assert "Analytics seats" in body and "2</td>" in body  # two days above the 50 entitled


def test_a_replaced_figure_is_not_drawn_only_the_current_one(
    client, customer_user, manager, seats, today
):
    day = today - timedelta(days=1)
    report_usage(manager, seats, {day: 70})
    report_usage(manager, seats, {day: 45})
    client.force_login(customer_user)

    used = chart(client.get(URL), seats)["data"]["datasets"][0]

    assert used["data"][-2] == 45 and 70 not in used["data"]


def test_a_customer_never_sees_another_customers_usage(
    client, customer_user, manager, seats, customer_b, today
):
    theirs = EntitlementFactory(contract=ContractFactory(customer=customer_b), name="Globex seats")
    report_usage(manager, theirs, daily(today - timedelta(days=2), 9, 9))
    report_usage(manager, seats, daily(today - timedelta(days=2), 9, 9))
    client.force_login(customer_user)

    body = client.get(URL).content.decode()

    assert "Analytics seats" in body
    assert "Globex seats" not in body and f"usage-chart-{theirs.pk}" not in body


def test_the_period_can_be_the_last_30_days_and_a_bad_choice_falls_back_to_90(
    client, customer_user, manager, seats, today
):
    report_usage(manager, seats, {today - timedelta(days=1): 10})
    client.force_login(customer_user)

    assert len(chart(client.get(URL, {"days": 30}), seats)["data"]["labels"]) == 30
    assert len(chart(client.get(URL, {"days": "7; drop"}), seats)["data"]["labels"]) == 90


def test_staff_are_sent_to_their_own_pages(client, manager):
    client.force_login(manager)

    assert client.get(URL).status_code == 403


# Session, user, role, membership, customer, the count and the page of entitlements, their
# figures, the usage warnings' banners.
QUERIES = 9


@pytest.mark.parametrize("entitlements", [1, 5])
def test_the_page_costs_the_same_queries_for_one_entitlement_or_five(
    client, customer_user, customer_a, manager, today, django_assert_num_queries, entitlements
):
    contract = ContractFactory(customer=customer_a)
    for _ in range(entitlements):
        report_usage(manager, EntitlementFactory(contract=contract),
                     daily(today - timedelta(days=3), 4, 5, 6))  # fmt: skip
    client.force_login(customer_user)

    with django_assert_num_queries(QUERIES):
        response = client.get(URL)

    assert response.content.decode().count('data-chart="usage-chart-') == entitlements


def test_a_usage_warning_shows_as_a_banner_until_put_away(
    client, customer_user, manager, seats, today
):
    from audit.models import AuditEvent
    from breaches.models import UsageWarning
    from breaches.services import usage_warnings_raise

    report_usage(manager, seats, {today - timedelta(days=1): 51})
    usage_warnings_raise(on=today, entitlement_ids=[seats.pk])
    client.force_login(customer_user)

    body = client.get(URL).content.decode()
    assert "Analytics seats</strong>: usage reached 100% of the entitlement" in body
    warning = UsageWarning.objects.get(entitlement=seats, threshold=100)

    client.post(f"/portal/breaches/warnings/{warning.pk}/dismiss/", {"next": URL})

    body = client.get(URL).content.decode()
    assert "usage reached 100%" not in body and "usage reached 80%" in body
    warning.refresh_from_db()
    assert warning.dismissed_by == customer_user
    assert AuditEvent.objects.filter(action="usage_warning.dismiss",
                                     object_id=str(warning.pk)).exists()  # fmt: skip


def test_another_customers_warning_cannot_be_put_away(
    client, other_customer_user, manager, seats, today
):
    from breaches.models import UsageWarning
    from breaches.services import usage_warnings_raise

    report_usage(manager, seats, {today - timedelta(days=1): 51})
    usage_warnings_raise(on=today, entitlement_ids=[seats.pk])
    warning = UsageWarning.objects.get(entitlement=seats, threshold=100)
    client.force_login(other_customer_user)

    response = client.post(f"/portal/breaches/warnings/{warning.pk}/dismiss/")

    assert response.status_code == 404
    warning.refresh_from_db()
    assert warning.dismissed_at is None
