"""Disputes: the list finance works from, resolving one, and attachments behind an access check."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from credits import services as credit_services
from credits.models import Dispute


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def issue(paid_contract, request_credit, analyst):
    def make():
        credit = request_credit(paid_contract())
        return credit_services.credit_approve(actor=analyst, credit_id=credit.pk)

    return make


@pytest.fixture
def dispute(issued_credit, customer_user):
    return credit_services.dispute_open(on=timezone.localdate(),
        actor=customer_user, credit_id=issued_credit.pk,
        reason="We stopped using the seats on the 10th.",
        attachment=SimpleUploadedFile("usage.csv", b"date,seats\n2026-11-10,4\n"),
    )  # fmt: skip


def _rows(response) -> list[int]:
    return [d.pk for d in response.context["page"]]


@pytest.mark.django_db
def test_open_disputes_come_first_by_due_date(client, analyst, customer_user, issue):
    resolved, later, sooner = (
        credit_services.dispute_open(
            on=timezone.localdate(), actor=customer_user, credit_id=issue().pk, reason=reason
        )
        for reason in ("Resolved", "Later", "Sooner")
    )
    credit_services.dispute_reject(actor=analyst, dispute_id=resolved.pk,
                                   reason="The dates are right")  # fmt: skip
    Dispute.objects.filter(pk=sooner.pk).update(due_on=sooner.due_on - timedelta(days=3))
    client.force_login(analyst)

    response = client.get(reverse("credits:disputes"))

    assert _rows(response) == [sooner.pk, later.pk, resolved.pk]


@pytest.mark.django_db
def test_the_dispute_list_filters_by_status(client, analyst, dispute):
    client.force_login(analyst)

    assert _rows(client.get(reverse("credits:disputes"), {"status": "open"})) == [dispute.pk]
    assert _rows(client.get(reverse("credits:disputes"), {"status": "upheld"})) == []


@pytest.mark.django_db
def test_finance_resolves_a_dispute_from_the_credit_page(client, approver, dispute):
    client.force_login(approver)

    response = client.post(
        reverse("credits:dispute-resolve", args=[dispute.pk]),
        {"outcome": "dismissed", "resolution": "Credit again from the 10th."},
        follow=True,
    )

    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.DISMISSED
    assert dispute.resolved_by == approver
    assert AuditEvent.objects.filter(action="dispute.dismissed").count() == 1
    assert "Credit again from the 10th." in response.content.decode()


@pytest.mark.django_db
def test_a_resolution_without_text_shows_the_form_again(client, analyst, dispute):
    client.force_login(analyst)

    response = client.post(
        reverse("credits:dispute-resolve", args=[dispute.pk]),
        {"outcome": "dismissed", "resolution": ""},
    )

    assert response.status_code == 400
    assert "Write the resolution" in response.content.decode()
    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.OPEN


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "shows_form"),
    [("analyst", True), ("controller", True), ("auditor", False), ("manager", False)],
    indirect=["persona"],
)
def test_the_resolve_form_shows_to_finance_only(client, persona, shows_form, dispute):
    client.force_login(persona)

    body = client.get(dispute.credit.get_absolute_url()).content.decode()

    assert (reverse("credits:dispute-resolve", args=[dispute.pk]) in body) is shows_form


@pytest.mark.django_db
def test_an_auditor_cannot_resolve_by_posting(client, auditor, dispute):
    client.force_login(auditor)

    client.post(
        reverse("credits:dispute-resolve", args=[dispute.pk]),
        {"outcome": "reversal", "resolution": "Looks right to me"},
    )

    dispute.refresh_from_db()
    assert dispute.status == Dispute.Status.OPEN


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "status"),
    [("analyst", 200), ("auditor", 200), ("customer_user", 403), ("other_customer_user", 403)],
    indirect=["persona"],
)
def test_attachments_download_through_an_access_check(client, persona, status, dispute):
    client.force_login(persona)

    response = client.get(reverse("credits:dispute-attachment", args=[dispute.pk]))

    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == b"date,seats\n2026-11-10,4\n"
        assert "attachment" in response["Content-Disposition"]


@pytest.mark.django_db
def test_a_dispute_without_an_attachment_has_nothing_to_download(client, analyst, issued_credit,
                                                                 customer_user):  # fmt: skip
    bare = credit_services.dispute_open(actor=customer_user, credit_id=issued_credit.pk,
                                        reason="No file", on=timezone.localdate())  # fmt: skip
    client.force_login(analyst)

    response = client.get(reverse("credits:dispute-attachment", args=[bare.pk]))

    assert response.status_code == 404


@pytest.mark.django_db
def test_the_dispute_list_query_count_does_not_grow(client, analyst, customer_user, issue,
                                                    django_assert_num_queries):  # fmt: skip
    credit_services.dispute_open(
        on=timezone.localdate(), actor=customer_user, credit_id=issue().pk, reason="One"
    )
    client.force_login(analyst)
    with django_assert_num_queries(DISPUTE_LIST_QUERIES):
        client.get(reverse("credits:disputes"))

    for reason in ("Two", "Three"):
        credit_services.dispute_open(
            on=timezone.localdate(), actor=customer_user, credit_id=issue().pk, reason=reason
        )

    with django_assert_num_queries(DISPUTE_LIST_QUERIES):
        response = client.get(reverse("credits:disputes"))
    assert len(_rows(response)) == 3


# Session, user, groups, count, rows, and the customer filter's choices; whether the reader sees
# the customers' words in clear (audit.personal) reads the user's permissions once: two more.
DISPUTE_LIST_QUERIES = 8
