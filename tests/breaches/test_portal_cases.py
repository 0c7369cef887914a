"""The customer's cases in the portal: their own only, the options with fees apart, choosing
one, and the notices."""

import pytest

from audit.models import AuditEvent
from breaches.models import BreachCase
from breaches.notices import breach_notice_issue
from tests.breaches.support import ON, march_case, move

pytestmark = pytest.mark.django_db
S = BreachCase.State


@pytest.fixture
def case(manager, customer_a, customer_user):
    return march_case(manager, customer_a)


def url(case, rest=""):
    return f"/portal/breaches/cases/{case.pk}/{rest}"


def test_a_case_under_our_review_is_not_shown_to_the_customer(client, manager, customer_user, case):
    move(manager, case, "review")
    client.force_login(customer_user)

    assert client.get(url(case)).status_code == 404
    assert f"Case {case.pk}" not in client.get("/portal/breaches/cases/").content.decode()


def test_the_customer_sees_the_offered_options_with_other_fees_apart(
    client, manager, customer_user, case
):
    move(manager, case, "review", "confirm", "offer")
    client.force_login(customer_user)

    response = client.get(url(case))

    body = response.content.decode()
    assert response.context["may_agree"] is True
    assert "USD 210.00" in body and "No other fees" in body
    assert "Choose the true-up" in body
    assert f"Case {case.pk}" in client.get("/portal/breaches/cases/").content.decode()


def test_the_customer_chooses_the_true_up_and_the_manager_is_told(
    client, manager, customer_user, case
):
    move(manager, case, "review", "confirm", "offer")
    client.force_login(customer_user)

    response = client.post(url(case, "agree/"), {"option": "true_up", "comment": ""}, follow=True)

    case.refresh_from_db()
    assert case.state == S.REMEDIATION_AGREED
    assert (case.agreed_option.kind, case.agreed_by) == ("true_up", customer_user)
    assert "Thank you: you chose the true-up." in response.content.decode()
    assert AuditEvent.objects.filter(action="breach_case.agree", actor=customer_user).exists()


def test_another_customers_case_answers_404_and_cannot_be_agreed(
    client, manager, other_customer_user, case
):
    move(manager, case, "review", "confirm", "offer")
    client.force_login(other_customer_user)

    assert client.get(url(case)).status_code == 404
    assert client.post(url(case, "agree/"), {"option": "true_up"}).status_code == 404
    case.refresh_from_db()
    assert case.state == S.REMEDIATION_OFFERED


def test_staff_only_timeline_entries_and_reasons_stay_off_the_portal(
    client, manager, customer_user, case
):
    move(manager, case, "review", "confirm")
    client.force_login(customer_user)

    body = client.get(url(case)).content.decode()

    assert "Test: confirm" not in body  # our reasons are ours
    assert [e.customer_visible for e in client.get(url(case)).context["events"]] == [True] * len(
        client.get(url(case)).context["events"]
    )


def test_the_customer_downloads_the_notice_as_issued(client, manager, customer_user, case):
    move(manager, case, "review", "confirm", "offer")
    notice = breach_notice_issue(actor=manager, case_id=case.pk, kind="remediation_proposal",
                                 on=ON, reason="Sent with the offer")  # fmt: skip
    client.force_login(customer_user)

    assert "Remediation proposal" in client.get(url(case)).content.decode()
    download = client.get(url(case, f"notices/{notice.pk}.pdf"))

    assert download.status_code == 200 and download.content == bytes(notice.pdf)
