"""The case page's forms: moves with a reason, classification, calls and e-mails, notices."""

import hashlib
import re
import shutil
import subprocess

import pytest

from audit.models import AuditEvent
from breaches.models import BreachCase, BreachNotice, Communication
from outbox.models import Mail
from tests.breaches.support import march_case, move

pytestmark = pytest.mark.django_db
S = BreachCase.State


@pytest.fixture
def case(manager, customer_a, customer_user):
    return march_case(manager, customer_a)


def url(case, rest=""):
    return f"/breaches/cases/{case.pk}/{rest}"


def pdf_text(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True)  # fmt: skip
    return re.sub(r"\s+", " ", done.stdout.decode())


def test_the_page_offers_the_moves_the_state_allows_with_their_consequences(client, manager, case):
    client.force_login(manager)

    moves = [m["name"] for m in client.get(url(case)).context["moves"]]
    body = client.get(url(case)).content.decode()

    assert moves == ["review", "escalate"]
    assert f"Start reviewing case {case.pk}? The customer is not told yet." in body
    assert "takes a second person&#x27;s approval" in body


def test_a_manager_moves_the_case_with_a_reason_and_it_is_on_the_timeline(client, manager, case):
    client.force_login(manager)

    response = client.post(url(case, "move/review/"), {"review-reason": "Figures look real"},
                           follow=True)  # fmt: skip

    case.refresh_from_db()
    assert case.state == S.UNDER_REVIEW
    assert f"Case {case.pk} is now under review." in response.content.decode()
    assert case.events.filter(action="review", reason="Figures look real").exists()
    assert AuditEvent.objects.filter(action="breach_case.review",
                                     reason="Figures look real").exists()  # fmt: skip


def test_a_move_without_a_reason_is_refused_beside_the_field_and_changes_nothing(
    client, manager, case
):
    client.force_login(manager)

    response = client.post(url(case, "move/review/"), {"review-reason": " "})

    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    case.refresh_from_db()
    assert case.state == S.DETECTED


def test_an_illegal_move_says_so_and_changes_nothing(client, manager, case):
    client.force_login(manager)

    response = client.post(url(case, "move/offer/"), {"offer-reason": "Hurry"}, follow=True)

    assert "cannot offer" in response.content.decode()
    case.refresh_from_db()
    assert case.state == S.DETECTED


def test_an_auditor_sees_the_case_but_no_forms(client, auditor, case):
    client.force_login(auditor)

    response = client.get(url(case))

    assert response.status_code == 200 and response.context["moves"] == []
    assert "What you can do now" not in response.content.decode()


def test_the_agreement_names_the_option(client, manager, case):
    move(manager, case, "review", "confirm", "offer")
    client.force_login(manager)

    client.post(url(case, "move/agree/"),
                {"agree-reason": "Agreed on the phone", "agree-option": "true_up"})  # fmt: skip

    case.refresh_from_db()
    assert case.state == S.REMEDIATION_AGREED and case.agreed_option.kind == "true_up"


def test_a_call_is_logged_and_appears_on_the_timeline(client, manager, case):
    client.force_login(manager)

    client.post(url(case, "log/"), {
        "log-kind": "call", "log-occurred_at": "2026-03-13T10:30", "log-participants": "Nina",
        "log-subject": "Seat count", "log-body": "Nina confirms a new team started.",
        "log-reason": "Logged from the case page",
    })  # fmt: skip

    entry = Communication.objects.get(case=case, kind="call")
    assert (entry.subject, entry.participants) == ("Seat count", "Nina")
    assert case.events.filter(kind="communication", communication=entry).exists()
    assert "Nina confirms a new team started." in client.get(url(case)).content.decode()


def test_a_call_in_the_future_is_refused_beside_its_date(client, manager, case, today):
    client.force_login(manager)

    response = client.post(url(case, "log/"), {
        "log-kind": "call", "log-occurred_at": f"{today.year + 1}-01-01T10:30",
        "log-subject": "Seat count", "log-body": "Not yet.", "log-reason": "Logged",
    })  # fmt: skip

    assert response.status_code == 400
    assert "logged after it took place" in response.content.decode()
    assert not Communication.objects.filter(case=case, kind="call").exists()


def test_an_email_from_a_template_goes_through_the_outbox_and_is_logged(
    client, manager, customer_a, case
):
    client.force_login(manager)

    client.post(url(case, "email/"), {"email-template": "check_in", "email-note": "Thursday?",
                                      "email-reason": "Sent from the case page"})  # fmt: skip

    entry = Communication.objects.get(case=case, kind="email", template="check_in")
    assert customer_a.billing_email in entry.recipients and entry.body.endswith("Thursday?")
    assert Mail.objects.filter(pk=entry.mail_id).exists()


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")
def test_a_breach_notice_is_issued_stored_with_its_hash_and_downloads_as_issued(
    client, manager, case
):
    move(manager, case, "review", "confirm")
    client.force_login(manager)

    response = client.post(url(case, "notices/"), {"notice-kind": "breach_notice",
                           "notice-reason": "Issued from the case page"}, follow=True)  # fmt: skip

    notice = BreachNotice.objects.get(case=case)
    [message] = [str(m) for m in response.context["messages"]]
    assert message == ("Breach notice issued and e-mailed to the customer's contacts with the "
                       "PDF attached; they can also read it in the portal.")  # fmt: skip
    pdf = bytes(notice.pdf)
    assert notice.sha256 == hashlib.sha256(pdf).hexdigest()
    text = pdf_text(pdf)
    assert "50 seats" in text and "60 seats, 10 above the entitlement" in text
    assert "Wednesday 11 March 2026" in text and "3 consecutive days" in text
    assert case.entitlement.contract.number in text
    download = client.get(url(case, f"notices/{notice.pk}.pdf"))
    assert download.content == pdf and download["X-Content-SHA256"] == notice.sha256
    assert case.events.filter(kind="notice", action="breach_notice").exists()
    assert AuditEvent.objects.filter(action="breach_notice.issue",
                                     data__sha256=notice.sha256).exists()  # fmt: skip


def test_a_notice_the_state_does_not_allow_is_not_offered_or_issued(client, manager, case):
    client.force_login(manager)

    assert client.get(url(case)).context["notice_kinds"] == []
    response = client.post(url(case, "notices/"), {"notice-kind": "breach_notice",
                                                   "notice-reason": "Early"})  # fmt: skip

    assert response.status_code == 400
    assert not BreachNotice.objects.exists()


def test_an_option_is_dropped_before_the_offer_and_put_back(client, manager, case):
    move(manager, case, "review", "confirm")
    option = case.options.exclude(kind="true_up").first()
    client.force_login(manager)
    assert client.get(url(case)).context["editable"] is True

    client.post(url(case, f"options/{option.pk}/drop/"),
                {f"option-{option.pk}-reason": "Not for this customer"})  # fmt: skip
    option.refresh_from_db()
    assert option.dropped_at is not None
    assert case.events.filter(kind="option", action="drop").exists()

    client.post(url(case, f"options/{option.pk}/restore/"),
                {f"option-{option.pk}-reason": "Asked for it"})  # fmt: skip
    option.refresh_from_db()
    assert option.dropped_at is None


def test_options_are_fixed_once_offered(client, manager, case):
    move(manager, case, "review", "confirm", "offer")
    option = case.options.exclude(kind="true_up").first()
    client.force_login(manager)

    response = client.post(url(case, f"options/{option.pk}/drop/"),
                           {f"option-{option.pk}-reason": "Late"}, follow=True)  # fmt: skip

    assert "Options change only before the offer" in response.content.decode()
    option.refresh_from_db()
    assert option.dropped_at is None
