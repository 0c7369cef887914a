"""The approval queue: what it lists, in which order, and what its filters keep."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from credits import services as credit_services
from credits.models import ApprovalStep, Credit
from credits.views import finance


def _rows(response) -> list[int]:
    return [credit.pk for credit in response.context["page"]]


def _due_in(credit: Credit, hours: float) -> None:
    # The clock is the edge: move the pending step's deadline instead of waiting for it.
    ApprovalStep.objects.filter(credit=credit, status=ApprovalStep.Status.PENDING).update(
        due_at=timezone.now() + timedelta(hours=hours)
    )


@pytest.fixture
def three_credits(paid_contract, request_credit):
    return [request_credit(paid_contract()) for _ in range(3)]


@pytest.mark.django_db
def test_overdue_credits_come_first_then_by_due_time(client, analyst, three_credits):
    later, overdue, sooner = three_credits
    _due_in(later, 30)
    _due_in(overdue, -5)
    _due_in(sooner, 2)
    client.force_login(analyst)

    response = client.get(reverse("credits:queue"))

    assert _rows(response) == [overdue.pk, sooner.pk, later.pk]
    body = response.content.decode()
    assert 'class="is-overdue"' in body
    assert "Overdue by" in body


@pytest.mark.django_db
def test_the_queue_lists_pending_and_sent_back_credits_only(client, analyst, three_credits):
    pending, sent_back, issued = three_credits
    credit_services.credit_send_back(actor=analyst, credit_id=sent_back.pk, reason="Wrong seats")
    credit_services.credit_approve(actor=analyst, credit_id=issued.pk)
    client.force_login(analyst)

    response = client.get(reverse("credits:queue"))

    assert _rows(response) == [pending.pk, sent_back.pk]
    assert "The requester answers" in response.content.decode()


@pytest.mark.django_db
def test_the_status_filter_keeps_sent_back_credits(client, analyst, three_credits):
    credit_services.credit_send_back(
        actor=analyst, credit_id=three_credits[1].pk, reason="Check the seat count"
    )
    client.force_login(analyst)

    response = client.get(reverse("credits:queue"), {"status": "sent_back"})

    assert _rows(response) == [three_credits[1].pk]


@pytest.mark.django_db
def test_the_customer_filter_keeps_that_customers_credits(
    client, analyst, paid_contract, request_credit, customer_b
):
    theirs = request_credit(paid_contract(customer=customer_b))
    request_credit(paid_contract())
    client.force_login(analyst)

    response = client.get(reverse("credits:queue"), {"customer": customer_b.pk})

    assert _rows(response) == [theirs.pk]


@pytest.mark.django_db
def test_the_form_filter_keeps_that_credit_form(client, analyst, paid_contract, request_credit):
    discount = request_credit(paid_contract(), form="future_discount")
    request_credit(paid_contract(), form="credit_note")
    client.force_login(analyst)

    response = client.get(reverse("credits:queue"), {"form": "future_discount"})

    assert _rows(response) == [discount.pk]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "mine"),
    [("analyst", "small"), ("approver", "large"), ("controller", None)],
    indirect=["persona"],
)
def test_mine_to_decide_keeps_credits_whose_pending_step_needs_my_role(
    client, persona, mine, paid_contract, request_credit, analyst
):
    small = request_credit(paid_contract())  # USD 90.00: one analyst step
    large = request_credit(paid_contract(seats=100), quantity_after=1)  # USD 1,485.00
    credit_services.credit_approve(actor=analyst, credit_id=large.pk)  # now the approver's
    client.force_login(persona)

    response = client.get(reverse("credits:queue"), {"mine": "on"})

    expected = {"small": [small.pk], "large": [large.pk], None: []}[mine]
    assert _rows(response) == expected


@pytest.mark.django_db
def test_the_queue_sorts_by_amount_when_asked(client, analyst, paid_contract, request_credit):
    small = request_credit(paid_contract())
    large = request_credit(paid_contract(seats=20), quantity_after=1)
    client.force_login(analyst)

    ascending = client.get(reverse("credits:queue"), {"ordering": "amount"})
    descending = client.get(reverse("credits:queue"), {"ordering": "-amount"})

    assert _rows(ascending) == [small.pk, large.pk]
    assert _rows(descending) == [large.pk, small.pk]


@pytest.mark.django_db
def test_the_queue_pages_its_rows(client, analyst, three_credits, monkeypatch):
    monkeypatch.setattr(finance, "PAGE_SIZE", 2)
    client.force_login(analyst)

    first = client.get(reverse("credits:queue"))
    second = client.get(reverse("credits:queue"), {"page": 2})

    assert len(_rows(first)) == 2
    assert len(_rows(second)) == 1
    assert "1–2 of 3" in first.content.decode()


@pytest.mark.django_db
def test_an_htmx_request_gets_the_table_only(client, analyst, credit):
    client.force_login(analyst)

    response = client.get(reverse("credits:queue"), headers={"HX-Request": "true"})

    body = response.content.decode()
    assert "<table>" in body
    assert "<html" not in body


@pytest.mark.django_db
def test_the_queue_shows_amount_currency_step_and_requester(client, analyst, credit, manager):
    client.force_login(analyst)

    body = client.get(reverse("credits:queue")).content.decode()

    assert "USD 90.00" in body
    assert "Finance analyst" in body
    assert credit.contract.number in body
    assert manager.get_full_name() in body


@pytest.mark.django_db
def test_the_queue_query_count_does_not_grow_with_its_rows(
    client, analyst, paid_contract, request_credit, django_assert_num_queries
):
    client.force_login(analyst)
    request_credit(paid_contract())
    with django_assert_num_queries(QUEUE_QUERIES):
        client.get(reverse("credits:queue"))

    for _ in range(3):
        request_credit(paid_contract())

    with django_assert_num_queries(QUEUE_QUERIES):
        response = client.get(reverse("credits:queue"))
    assert len(_rows(response)) == 4


# Session, user, role groups, count, rows, and the customer filter's choices.
QUEUE_QUERIES = 6
