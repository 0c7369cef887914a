"""A credit's page: what it explains, and approve, reject and send back through its forms."""

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from credits import services as credit_services
from credits.models import ApprovalStep, Credit
from licensing.models import Entitlement


def _post(client, credit, action: str, **data):
    url = reverse(f"credits:credit-{action}", args=[credit.pk])
    return client.post(url, {"version": credit.version, **data}, follow=True)


def _refreshed(credit) -> Credit:
    return Credit.objects.get(pk=credit.pk)


@pytest.mark.django_db
def test_the_page_explains_the_calculation_line_by_line(client, analyst, credit):
    client.force_login(analyst)

    body = client.get(credit.get_absolute_url()).content.decode()

    assert "6 of 10 seats released for 15 of 30 days" in body
    assert "USD 300.00 × 6/10 × 15/30 = USD 90.00." in body
    assert "Credit policy v1" in body and "credit/v1" not in body
    assert "Finance analyst" in body


@pytest.mark.django_db
def test_the_analyst_approves_the_last_step_and_the_credit_is_issued(client, analyst, credit):
    client.force_login(analyst)

    response = _post(client, credit, "approve", reason="Matches the invoice")

    issued = _refreshed(credit)
    assert issued.status == Credit.Status.ISSUED
    assert issued.number.startswith("CN-")
    step = issued.steps.get()
    assert (step.status, step.decided_by, step.reason) == (
        "approved",
        analyst,
        "Matches the invoice",
    )
    assert AuditEvent.objects.filter(action="credit.issue", object_id=str(credit.pk)).exists()
    assert Entitlement.objects.get(contract=credit.contract).quantity == 4
    body = response.content.decode()
    assert f"{issued.number} is issued" in body
    assert "Download credit note (PDF)" in body


@pytest.mark.django_db
def test_approving_a_first_step_hands_the_credit_to_the_next_role(
    client, analyst, paid_contract, request_credit
):
    credit = request_credit(paid_contract(seats=100), quantity_after=1)  # USD 1,485.00
    client.force_login(analyst)

    _post(client, credit, "approve")

    credit = _refreshed(credit)
    assert credit.status == Credit.Status.PENDING
    assert list(credit.steps.values_list("status", flat=True)) == ["approved", "pending"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "status", "step_status"),
    [("reject", "rejected", "rejected"), ("send-back", "sent_back", "sent_back")],
)
def test_reject_and_send_back_record_the_reason(client, analyst, credit, action, status,
                                                step_status):  # fmt: skip
    client.force_login(analyst)

    _post(client, credit, action, reason="The seats were already released in October")

    credit = _refreshed(credit)
    assert credit.status == status
    step = credit.steps.get()
    assert step.status == step_status
    assert step.reason == "The seats were already released in October"


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["reject", "send-back"])
def test_reject_and_send_back_without_a_reason_show_the_form_again(client, analyst, credit,
                                                                   action):  # fmt: skip
    client.force_login(analyst)

    response = client.post(
        reverse(f"credits:credit-{action}", args=[credit.pk]),
        {"version": credit.version, "reason": "   "},
    )

    assert response.status_code == 400
    assert "Give a reason to" in response.content.decode()
    assert _refreshed(credit).status == Credit.Status.PENDING


@pytest.mark.django_db
def test_a_stale_version_changes_nothing_and_says_why(client, analyst, credit):
    client.force_login(analyst)

    response = client.post(
        reverse("credits:credit-approve", args=[credit.pk]),
        {"version": credit.version - 1},
        headers={"referer": credit.get_absolute_url()},
        follow=True,
    )

    assert _refreshed(credit).status == Credit.Status.PENDING
    assert "changed by someone else" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "shows_forms", "refusal"),
    [
        ("analyst", True, ""),
        ("approver", False, "Step 1 needs a finance analyst."),
        ("auditor", False, "Step 1 needs a finance analyst."),
        ("manager", False, "Step 1 needs a finance analyst."),
    ],
    indirect=["persona"],
)
def test_the_decision_forms_show_only_to_who_may_decide(client, credit, persona, shows_forms,
                                                        refusal):  # fmt: skip
    client.force_login(persona)

    body = client.get(credit.get_absolute_url()).content.decode()

    assert (reverse("credits:credit-approve", args=[credit.pk]) in body) is shows_forms
    assert refusal in body


@pytest.mark.django_db
def test_segregation_of_duties_is_explained_to_an_analyst_who_requested_it(
    client, analyst, paid_contract, request_credit
):
    credit = request_credit(paid_contract(), actor=analyst)
    client.force_login(analyst)

    body = client.get(credit.get_absolute_url()).content.decode()

    assert "Segregation of duties" in body
    assert reverse("credits:credit-approve", args=[credit.pk]) not in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "status"),
    [("approver", "pending"), ("auditor", "pending"), ("customer_user", "pending")],
    indirect=["persona"],
)
def test_who_may_not_decide_cannot_approve_by_posting(client, credit, persona, status):
    client.force_login(persona)

    response = client.post(
        reverse("credits:credit-approve", args=[credit.pk]), {"version": credit.version}
    )

    assert response.status_code in (302, 403)
    assert _refreshed(credit).status == status
    assert not ApprovalStep.objects.filter(credit=credit, decided_by=persona).exists()


@pytest.mark.django_db
def test_the_page_shows_the_trail_and_the_history(client, analyst, approver, paid_contract,
                                                  request_credit):  # fmt: skip
    credit = request_credit(paid_contract(seats=100), quantity_after=1)
    client.force_login(analyst)
    _post(client, credit, "approve", reason="Seats checked")
    client.force_login(approver)

    body = client.get(credit.get_absolute_url()).content.decode()

    assert "Seats checked" in body  # the trail's reason
    assert "Step 1 approved" in body  # the history row
    assert analyst.get_full_name() in body
    assert "Finance approver" in body


@pytest.mark.django_db
def test_the_credit_page_query_count_is_pinned(client, analyst, credit,
                                               django_assert_num_queries):  # fmt: skip
    client.force_login(analyst)

    with django_assert_num_queries(CREDIT_PAGE_QUERIES):
        client.get(credit.get_absolute_url())


@pytest.mark.django_db
def test_the_credit_page_query_count_does_not_grow_with_disputes(
    client, analyst, customer_user, paid_contract, request_credit, django_assert_num_queries
):
    quiet = credit_services.credit_approve(
        actor=analyst, credit_id=request_credit(paid_contract()).pk
    )
    busy = credit_services.credit_approve(
        actor=analyst, credit_id=request_credit(paid_contract()).pk
    )
    first = credit_services.dispute_open(
        on=timezone.localdate(), actor=customer_user, credit_id=busy.pk, reason="Late"
    )
    credit_services.dispute_reject(actor=analyst, dispute_id=first.pk,
                                   reason="The dates are right")  # fmt: skip
    credit_services.dispute_open(
        on=timezone.localdate(), actor=customer_user, credit_id=busy.pk, reason="Still late"
    )
    client.force_login(analyst)

    with django_assert_num_queries(ISSUED_PAGE_QUERIES):
        client.get(quiet.get_absolute_url())
    with django_assert_num_queries(ISSUED_PAGE_QUERIES):
        body = client.get(busy.get_absolute_url()).content.decode()
    assert "Still late" in body and "The dates are right" in body


# Session, user, groups; the credit, its lines, steps and disputes; the decider checks (pending
# step, earlier decisions); the history; the changes it scheduled (every state, read once: the
# reversal check uses them too); the next credit note number, told before the last step is
# approved. Who may resolve a dispute is asked of the role already read, so the dispute forms
# cost no query. Whether the reader sees personal data in clear (audit.personal) reads the
# user's permissions once: two queries.
CREDIT_PAGE_QUERIES = 14
# An issued credit has no pending step to check; it reads whether the reader sees personal data
# in clear (two queries) as the pending page does.
ISSUED_PAGE_QUERIES = 11
