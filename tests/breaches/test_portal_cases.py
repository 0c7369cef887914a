"""The customer's cases in the portal: their own only, the options with fees apart, choosing
one, and the notices."""

import re

import pytest

from audit.models import AuditEvent
from breaches.models import BreachCase
from breaches.notices import breach_notice_issue
from breaches.services import breach_case_note
from tests.breaches.support import ON, march_case, move

pytestmark = pytest.mark.django_db
S = BreachCase.State


@pytest.fixture
def case(manager, customer_a, customer_user):
    return march_case(manager, customer_a)


def url(case, rest=""):
    return f"/portal/breaches/cases/{case.pk}/{rest}"


@pytest.mark.parametrize(
    ("moves", "label", "words"),
    [
        ((), "Being checked", "We are checking the figures before we talk it through with you"),
        (("review",), "Being checked", "We are checking these figures against our records."),
        (("review", "dismiss"), "Closed, nothing to do",
         "there is nothing to pay and nothing for you to do."),
    ],
)  # fmt: skip
def test_the_customer_sees_its_own_case_in_every_state_in_plain_words(
    client, manager, customer_user, case, moves, label, words
):
    move(manager, case, *moves)
    client.force_login(customer_user)

    page = client.get(url(case))
    listing = client.get("/portal/breaches/cases/").content.decode()

    assert page.status_code == 200
    body = page.content.decode()
    assert label in body and words in body
    assert f"Case {case.pk}" in listing and label in listing
    assert ">Under review<" not in body and "Test: review" not in body


def test_the_timeline_speaks_in_sentences_with_dates_as_people_write_them(
    client, manager, customer_user, case
):
    move(manager, case, "review", "confirm", "offer")
    client.force_login(customer_user)

    response = client.get(url(case))

    texts = [e["text"] for e in response.context["events"]]
    assert "We offered you ways back to compliance to choose from." in texts
    assert "A date was set: Choose a remediation option by 28 March 2026." in texts
    assert "We started checking the figures against our records. Nothing changes to your " \
           "service while we do." in texts  # fmt: skip
    assert any(t.startswith("Our records showed 60 seats in use against the 50 seats your "
                            "contract grants, from 11 March 2026, on 3 days in a row.")
               for t in texts)  # fmt: skip
    assert any(t.startswith("We e-mailed you: Ways back to compliance") for t in texts)
    timeline = response.content.decode().split('id="timeline"')[1]
    assert "→" not in timeline and "2026-03" not in timeline
    assert re.search(r">\d{1,2} [A-Z][a-z]+ \d{4}</time>", timeline)


def test_another_customer_still_cannot_see_a_case_in_review(
    client, manager, other_customer_user, case
):
    move(manager, case, "review")
    client.force_login(other_customer_user)

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
    breach_case_note(actor=manager, case_id=case.pk, notes="Be gentle", reason="After a call")
    client.force_login(customer_user)

    body = client.get(url(case)).content.decode()
    assert "Staff notes updated" not in body and "Be gentle" not in body

    assert "Test: confirm" not in body  # our reasons are ours
    events = client.get(url(case)).context["events"]
    assert len(events) == case.events.filter(customer_visible=True).count()
    assert case.events.filter(customer_visible=False).exists()


def test_the_customer_downloads_the_notice_as_issued(client, manager, customer_user, case):
    move(manager, case, "review", "confirm", "offer")
    notice = breach_notice_issue(actor=manager, case_id=case.pk, kind="remediation_proposal",
                                 on=ON, reason="Sent with the offer")  # fmt: skip
    client.force_login(customer_user)

    assert "Remediation proposal" in client.get(url(case)).content.decode()
    download = client.get(url(case, f"notices/{notice.pk}.pdf"))

    assert download.status_code == 200 and download.content == bytes(notice.pdf)
