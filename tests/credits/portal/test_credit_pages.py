import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from credits import services
from credits.models import Dispute
from tests.support import downgrade, seat_credit

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% a scanned seat report\n"


def pdf_upload(name="seat-report.pdf", content=PDF, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def disputed_credit(issued_credit, customer_user):
    services.dispute_open(
        on=timezone.localdate(),
        actor=customer_user,
        credit_id=issued_credit.pk,
        reason="We released 12 seats.",
        attachment=pdf_upload(),
    )
    return issued_credit


def _urls(credit) -> dict[str, str]:
    dispute = credit.disputes.get()
    return {
        "page": reverse("credits_portal:credit", args=[credit.pk]),
        "pdf": reverse("credits_portal:credit-note", args=[credit.pk]),
        "attachment": reverse("credits_portal:dispute-attachment", args=[credit.pk, dispute.pk]),
    }


@pytest.mark.parametrize("what", ["page", "pdf", "attachment"])
@pytest.mark.parametrize(
    ("persona", "status"),
    [("customer_user", 200), ("other_customer_user", 404)],
    indirect=["persona"],
)
def test_only_the_credits_own_customer_sees_it_its_credit_note_and_attachments(
    client, disputed_credit, persona, status, what
):
    client.force_login(persona)

    response = client.get(_urls(disputed_credit)[what])

    assert response.status_code == status
    if status == 404:
        assert disputed_credit.number not in b"".join(response).decode(errors="replace")


def test_the_credit_note_downloads_as_a_pdf_named_by_its_number(
    client, customer_user, issued_credit
):
    client.force_login(customer_user)

    response = client.get(reverse("credits_portal:credit-note", args=[issued_credit.pk]))

    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{issued_credit.number}.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")


def test_a_credit_not_yet_issued_has_no_credit_note(client, customer_user, pending_credit):
    client.force_login(customer_user)

    response = client.get(reverse("credits_portal:credit-note", args=[pending_credit.pk]))

    assert response.status_code == 404


def test_another_customer_cannot_dispute_a_credit(client, other_customer_user, issued_credit):
    client.force_login(other_customer_user)

    response = client.post(
        reverse("credits_portal:dispute", args=[issued_credit.pk]),
        {"reason": "Not ours, but let us try."},
    )

    assert response.status_code == 404
    assert not Dispute.objects.exists()


def test_the_list_shows_the_customers_own_credits_with_their_status(
    client, customer_user, issued_credit, their_issued_credit, seat_contract, today
):
    pending = downgrade(customer_user, seat_contract, 30, effective=today).credit
    client.force_login(customer_user)

    response = client.get(reverse("credits_portal:list"))

    body = response.content.decode()
    assert [c.pk for c in response.context["page"]] == [pending.pk, issued_credit.pk]
    assert issued_credit.number in body and "Issued" in body
    assert f"Request {pending.pk}" in body and "Awaiting approval" in body
    assert their_issued_credit.number not in body


def test_the_list_filters_by_status(client, customer_user, issued_credit, seat_contract, today):
    downgrade(customer_user, seat_contract, 30, effective=today)
    client.force_login(customer_user)

    response = client.get(reverse("credits_portal:list"), {"status": "issued"})

    assert [c.pk for c in response.context["page"]] == [issued_credit.pk]


def test_the_credit_page_explains_the_calculation_and_the_chain_without_approvers_names(
    client, customer_user, issued_credit, analyst, today, period
):
    amount = seat_credit(paid="1500.00", seats=50, after=40, period=period, effective=today)
    client.force_login(customer_user)

    response = client.get(reverse("credits_portal:credit", args=[issued_credit.pk]))

    body = response.content.decode()
    assert f"Issued as {issued_credit.number}" in body
    assert "10 of 50 seats released" in body
    assert f"USD {amount:,}" in body
    assert "Review by our finance team" in body and "Done on" in body
    assert "Version 1" in body
    assert analyst.get_full_name() not in body and analyst.username not in body
    assert reverse("credits_portal:credit-note", args=[issued_credit.pk]) in body


def test_a_pending_credit_says_which_step_is_under_way(client, customer_user, pending_credit):
    client.force_login(customer_user)

    body = client.get(reverse("credits_portal:credit", args=[pending_credit.pk])).content.decode()

    assert "Awaiting approval: step 1 of 1, review by our finance team, is in progress." in body
    assert "Download the credit note" not in body
    assert 'name="reason"' not in body  # no dispute form before the credit is issued


def test_a_customer_disputes_an_issued_credit_with_an_attachment(
    client, customer_user, issued_credit, media
):
    client.force_login(customer_user)

    response = client.post(
        reverse("credits_portal:dispute", args=[issued_credit.pk]),
        {"reason": "We released the seats on the 2nd.", "attachment": pdf_upload()},
    )

    page = reverse("credits_portal:credit", args=[issued_credit.pk])
    assert response.status_code == 302 and response.url == page + "#disputes"
    dispute = Dispute.objects.get(credit=issued_credit)
    assert (dispute.status, dispute.reason) == (
        Dispute.Status.OPEN,
        "We released the seats on the 2nd.",
    )
    assert (media / dispute.attachment.name).read_bytes() == PDF
    assert AuditEvent.objects.filter(action="dispute.open", object_id=str(dispute.pk)).exists()
    body = client.get(page).content.decode()
    assert "We released the seats on the 2nd." in body and "seat-report" in body
    assert 'name="reason"' not in body  # one open dispute at a time
    download = client.get(
        reverse("credits_portal:dispute-attachment", args=[issued_credit.pk, dispute.pk])
    )
    assert b"".join(download.streaming_content) == PDF
    assert "attachment" in download["Content-Disposition"]


def test_a_dispute_without_a_reason_is_refused_beside_the_field(
    client, customer_user, issued_credit
):
    client.force_login(customer_user)

    response = client.post(
        reverse("credits_portal:dispute", args=[issued_credit.pk]), {"reason": "  "}
    )

    assert response.status_code == 400
    assert response.context["dispute_form"].errors == {
        "reason": ["Tell us why: finance answers the reason you give."]
    }
    assert not Dispute.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"plain text", "File extension “txt” is not allowed."),
        ("invoice.pdf", b"MZ\x90\x00 an executable", "This file is not a real PDF"),
        ("photo.png", b"\xff\xd8\xff a jpeg", "This file is not a real PNG"),
        ("big.pdf", b"%PDF-1.4\n" + b"0" * (5 * 1024 * 1024), "the limit is 5 MB"),
    ],
)
def test_an_attachment_must_be_a_real_pdf_png_or_jpg_of_at_most_5_mb(
    client, customer_user, issued_credit, name, content, message
):
    client.force_login(customer_user)

    response = client.post(
        reverse("credits_portal:dispute", args=[issued_credit.pk]),
        {"reason": "See the file.", "attachment": pdf_upload(name, content)},
    )

    assert response.status_code == 400
    assert message in " ".join(response.context["dispute_form"].errors["attachment"])
    assert not Dispute.objects.exists()


def test_a_jpg_of_exactly_5_mb_is_accepted(client, customer_user, issued_credit):
    client.force_login(customer_user)
    content = b"\xff\xd8\xff" + b"0" * (5 * 1024 * 1024 - 3)

    response = client.post(
        reverse("credits_portal:dispute", args=[issued_credit.pk]),
        {"reason": "Photo of the console.", "attachment": pdf_upload("console.jpg", content)},
    )

    assert response.status_code == 302
    assert Dispute.objects.get().attachment.size == 5 * 1024 * 1024


def test_disputing_a_credit_not_yet_issued_is_refused_with_a_message(
    client, customer_user, pending_credit
):
    client.force_login(customer_user)
    page = reverse("credits_portal:credit", args=[pending_credit.pk])

    response = client.post(
        reverse("credits_portal:dispute", args=[pending_credit.pk]),
        {"reason": "Too slow."},
        HTTP_REFERER="http://testserver" + page,
    )

    assert response.status_code == 302 and response.url.endswith(page)
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Only an issued credit can be disputed."
    ]
    assert not Dispute.objects.exists()


def test_a_sent_back_credit_can_be_answered_and_resubmitted_by_its_requester(
    client, customer_user, pending_credit, analyst
):
    services.credit_send_back(
        actor=analyst, credit_id=pending_credit.pk, reason="Which seats? Name the team."
    )
    client.force_login(customer_user)
    page = reverse("credits_portal:credit", args=[pending_credit.pk])
    assert "Which seats? Name the team." in client.get(page).content.decode()

    response = client.post(
        reverse("credits_portal:resubmit", args=[pending_credit.pk]),
        {"reason": "The Berlin team.", "credit_form": "future_discount"},
    )

    assert response.status_code == 302
    pending_credit.refresh_from_db()
    assert (pending_credit.status, pending_credit.form) == ("pending", "future_discount")


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_list_reads_the_same_number_of_queries_for_one_credit_or_many(
    client, customer_user, issued_credit, seat_contract, today, analyst
):
    client.force_login(customer_user)
    url = reverse("credits_portal:list")
    one = _count_queries(client, url)
    for after in (35, 30, 25):
        change = downgrade(customer_user, seat_contract, after, effective=today)
        # One open change per line: decide each before the next is asked for.
        services.credit_reject(actor=analyst, credit_id=change.credit.pk, reason="Not now")

    assert _count_queries(client, url) == one


def test_the_credit_page_reads_the_same_number_of_queries_however_many_disputes(
    client, customer_user, issued_credit
):
    client.force_login(customer_user)
    url = reverse("credits_portal:credit", args=[issued_credit.pk])
    services.dispute_open(
        on=timezone.localdate(),
        actor=customer_user,
        credit_id=issued_credit.pk,
        reason="One.",
        attachment=pdf_upload(),
    )
    one = _count_queries(client, url)
    dispute = issued_credit.disputes.get()
    analyst = dispute.credit.steps.get().decided_by
    for reason in ("Two.", "Three."):
        services.dispute_reject(
            actor=analyst,
            dispute_id=issued_credit.disputes.get(status="open").pk,
            reason="Checked again.",
        )
        services.dispute_open(
            on=timezone.localdate(),
            actor=customer_user,
            credit_id=issued_credit.pk,
            reason=reason,
            attachment=pdf_upload(),
        )

    assert issued_credit.disputes.count() == 3
    assert _count_queries(client, url) == one
