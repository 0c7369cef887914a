"""The approval chain, finished: sent-back credits resolved, escalations in "mine to decide",
thresholds in the policy's currency, e-mails with their content, dispute outcomes."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from credits import services
from credits.models import AccountEntry, Credit, Dispute
from licensing import services as licensing_services
from licensing.errors import ActionForbidden, DomainError
from licensing.models import ScheduledChange
from tests.support import add_rate, downgrade, paid_contract

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _sent_back(manager, analyst, contract, quantity=20):
    credit = downgrade(manager, contract, quantity).credit
    return services.credit_send_back(actor=analyst, credit_id=credit.pk, reason="Wrong form")


@pytest.mark.parametrize(
    "finish",
    [
        lambda c, m, a: services.credit_withdraw(actor=m, credit_id=c.pk, reason="Not needed"),
        lambda c, m, a: services.credit_reject(actor=a, credit_id=c.pk, reason="Not due"),
    ],
    ids=["withdrawn by the requester", "rejected by finance"],
)
def test_a_sent_back_credit_ends_and_its_contract_line_is_free_again(
    manager, analyst, seat_contract, finish
):
    credit = _sent_back(manager, analyst, seat_contract)

    finish(credit, manager, analyst)

    credit.refresh_from_db()
    assert credit.status in (Credit.Status.WITHDRAWN, Credit.Status.REJECTED)
    assert downgrade(manager, seat_contract, 25).credit.status == Credit.Status.PENDING


def test_only_the_requester_withdraws_and_never_finance(manager, analyst, seat_contract):
    credit = _sent_back(manager, analyst, seat_contract)

    assert services.credit_withdraw_refusal(actor=analyst, credit=credit)
    with pytest.raises(ActionForbidden):
        services.credit_withdraw(actor=analyst, credit_id=credit.pk, reason="Mine now")
    assert services.credit_reject_refusal(actor=manager, credit=credit)


def test_a_staff_requester_resubmits_from_the_finance_page(client, manager, analyst, seat_contract):
    credit = _sent_back(manager, analyst, seat_contract)
    client.force_login(manager)

    response = client.post(
        reverse("credits:credit-resubmit", args=[credit.pk]),
        {"reason": "Form corrected", "credit_form": "credit_note", "version": credit.version},
    )

    assert response.status_code == 302
    credit.refresh_from_db()
    assert credit.status == Credit.Status.PENDING
    assert AuditEvent.objects.filter(action="credit.resubmit", object_id=str(credit.pk)).exists()


def test_a_customer_withdraws_a_sent_back_credit_in_the_portal(
    client, customer_user, analyst, current_contract, today
):
    credit = downgrade(customer_user, current_contract, 20, effective=today).credit
    services.credit_send_back(actor=analyst, credit_id=credit.pk, reason="Which seats?")
    client.force_login(customer_user)

    client.post(reverse("credits_portal:withdraw", args=[credit.pk]), {"reason": "Never mind"})

    credit.refresh_from_db()
    assert credit.status == Credit.Status.WITHDRAWN


def test_mine_to_decide_includes_an_escalated_step(client, manager, controller, seat_contract):
    credit = downgrade(manager, seat_contract, 20).credit  # one analyst step
    step = credit.steps.get()
    client.force_login(controller)
    before = client.get(reverse("credits:queue"), {"mine": "on"}).context["page"]
    services.process_approval_deadlines(now=step.due_at + timedelta(minutes=1))

    after = client.get(reverse("credits:queue"), {"mine": "on"}).context["page"]

    assert [c.pk for c in before] == []
    assert [c.pk for c in after] == [credit.pk]
    assert services.credit_decision_refusal(actor=controller, credit=credit) is None


def test_a_eur_credit_under_a_usd_policy_picks_its_steps_by_the_converted_amount(
    manager, customer_a
):
    contract = paid_contract(customer_a, currency="EUR")
    add_rate("EUR", "2.5000", valid_from=date(2020, 1, 1))  # in force on the request date
    add_rate("EUR", "0.5000", valid_from=date(2099, 1, 1))  # not yet

    credit = downgrade(manager, contract, 20).credit

    assert (credit.currency, credit.amount) == ("EUR", Decimal("464.52"))
    assert (credit.base_currency, credit.base_amount) == ("USD", Decimal("1161.30"))
    assert (credit.exchange_rate, credit.rate_date) == (Decimal("2.5"), date(2020, 1, 1))
    # EUR 464.52 is below the USD 1,000 approver threshold; USD 1,161.30 is not.
    assert [s.role for s in credit.steps.order_by("order")] == [
        "finance_analyst", "finance_approver",
    ]  # fmt: skip


def test_a_missing_rate_is_a_clear_refusal(manager, customer_a):
    contract = paid_contract(customer_a, currency="EUR")

    with pytest.raises(DomainError, match="No EUR to USD exchange rate"):
        downgrade(manager, contract, 20)
    assert not Credit.objects.exists()


def test_the_approver_is_mailed_when_a_step_reaches_them(
    manager, analyst, seat_contract, django_capture_on_commit_callbacks
):
    analyst.email = "ana@example.com"
    analyst.save()

    with django_capture_on_commit_callbacks(execute=True):
        credit = downgrade(manager, seat_contract, 20).credit

    [sent] = [m for m in mail.outbox if "awaits your approval" in m.subject]
    assert sent.to == ["ana@example.com"]
    assert f"Step 1 of 1 of {credit}" in sent.body
    assert "Credit policy v" in sent.body
    assert sent.alternatives and sent.alternatives[0][1] == "text/html"


def test_the_customer_is_mailed_on_issue_with_the_credit_note_attached(
    manager, analyst, seat_contract, django_capture_on_commit_callbacks
):
    credit = downgrade(manager, seat_contract, 20).credit

    with django_capture_on_commit_callbacks(execute=True):
        credit = services.credit_approve(actor=analyst, credit_id=credit.pk)

    [sent] = [m for m in mail.outbox if m.subject == f"Credit note {credit.number} issued"]
    assert sent.to == [seat_contract.customer.billing_email]
    assert "billing period 1 Mar 2026 to 1 Apr 2026" in sent.body
    assert f"/portal/credits/policy/versions/{credit.policy.number}/" in sent.body
    [(filename, content, mimetype)] = sent.attachments
    assert (filename, mimetype) == (f"{credit.number}.pdf", "application/pdf")
    assert content.startswith(b"%PDF")


@pytest.mark.parametrize("outcome", ["send_back", "reject"])
def test_the_customer_reads_the_reason_of_a_send_back_or_reject(
    manager, analyst, seat_contract, django_capture_on_commit_callbacks, outcome
):
    credit = downgrade(manager, seat_contract, 20).credit
    decide = getattr(services, f"credit_{outcome}")

    with django_capture_on_commit_callbacks(execute=True):
        decide(actor=analyst, credit_id=credit.pk, reason="Seats were never in use")

    [sent] = [m for m in mail.outbox if m.to == [seat_contract.customer.billing_email]]
    assert "Reason: Seats were never in use" in sent.body


def _issued_and_disputed(manager, analyst, customer_user, contract):
    credit = downgrade(manager, contract, 20).credit
    credit = services.credit_approve(actor=analyst, credit_id=credit.pk)
    dispute = services.dispute_open(actor=customer_user, credit_id=credit.pk,
                                    reason="We released 35 seats, not 30.",
                                    on=timezone.localdate())  # fmt: skip
    return credit, dispute


def test_upholding_with_a_correction_opens_a_corrective_credit_through_the_chain(
    manager, analyst, approver, customer_user, seat_contract
):
    credit, dispute = _issued_and_disputed(manager, analyst, customer_user, seat_contract)
    line = seat_contract.lines.get()

    dispute = services.dispute_uphold(
        actor=approver, dispute_id=dispute.pk, resolution="You are right: 15 seats remain.",
        outcome="correction", corrections=[{"contract_line": line.pk, "quantity_after": 15}],
    )  # fmt: skip

    corrective = dispute.corrective_credit
    assert dispute.status == Dispute.Status.UPHELD
    assert corrective.corrects == credit
    assert corrective.status == Credit.Status.PENDING
    # 35 of 50 seats instead of 30: the corrective credit is the five seats' share.
    assert corrective.amount == (credit.amount / 30 * 5).quantize(Decimal("0.01"))
    corrective = services.credit_approve(actor=analyst, credit_id=corrective.pk)
    assert corrective.status == Credit.Status.ISSUED
    line.refresh_from_db()
    assert line.quantity == 15


def _future_issued_and_disputed(manager, analyst, customer_user, contract, today):
    """An issued downgrade that takes effect in five days, disputed by the customer."""
    credit = downgrade(manager, contract, 20, effective=today + timedelta(days=5)).credit
    credit = services.credit_approve(actor=analyst, credit_id=credit.pk)
    dispute = services.dispute_open(actor=customer_user, credit_id=credit.pk,
                                    reason="We never asked for this.", on=today)  # fmt: skip
    return credit, dispute


def test_upholding_by_reversal_takes_the_credit_back(
    manager, analyst, customer_user, current_contract, today
):
    credit, dispute = _future_issued_and_disputed(
        manager, analyst, customer_user, current_contract, today
    )

    services.dispute_uphold(actor=analyst, dispute_id=dispute.pk, outcome="reversal",
                            resolution="Issued in error.", on=today)  # fmt: skip

    credit.refresh_from_db()
    assert credit.status == Credit.Status.REVERSED
    entries = AccountEntry.objects.filter(credit=credit)
    assert sum(e.amount for e in entries) == 0
    assert AuditEvent.objects.filter(action="credit.reverse").count() == 1


def test_a_reversal_calls_off_the_change_that_has_not_taken_effect(
    manager, analyst, customer_user, current_contract, today
):
    credit, dispute = _future_issued_and_disputed(
        manager, analyst, customer_user, current_contract, today
    )
    parts = ScheduledChange.objects.filter(source=f"credits.change:{credit.change_id}")
    assert {p.state for p in parts} == {ScheduledChange.State.PENDING}

    services.dispute_uphold(actor=analyst, dispute_id=dispute.pk, outcome="reversal",
                            resolution="Issued in error.", on=today)  # fmt: skip
    licensing_services.apply_due_changes(on=today + timedelta(days=5))

    assert {p.state for p in parts.all()} == {ScheduledChange.State.CANCELLED}
    assert current_contract.lines.get().quantity == 50
    assert current_contract.entitlements.get().quantity == 50
    assert AuditEvent.objects.filter(action="scheduled_change.cancel").count() == parts.count()
    reversal = AuditEvent.objects.get(action="credit.reverse")
    assert sorted(reversal.data["called_off"]) == sorted(p.pk for p in parts)


def test_the_customer_is_told_the_reversal_calls_the_change_off(
    manager, analyst, customer_user, current_contract, today, django_capture_on_commit_callbacks
):
    credit, dispute = _future_issued_and_disputed(
        manager, analyst, customer_user, current_contract, today
    )

    with django_capture_on_commit_callbacks(execute=True):
        services.dispute_uphold(actor=analyst, dispute_id=dispute.pk, outcome="reversal",
                                resolution="Issued in error.", on=today)  # fmt: skip

    [sent] = [m for m in mail.outbox if m.subject.startswith("Your dispute")]
    effective = today + timedelta(days=5)
    assert (f"{credit.number} is reversed, and the downgrade from {effective:%-d %B %Y} it was "
            "given for is called off") in sent.body  # fmt: skip


def test_the_api_refuses_a_reversal_once_the_change_took_effect_naming_the_outcome(
    manager, analyst, customer_user, seat_contract
):
    from rest_framework.test import APIClient

    _, dispute = _issued_and_disputed(manager, analyst, customer_user, seat_contract)
    api = APIClient()
    api.force_authenticate(analyst)

    response = api.post(f"/api/v1/credits/disputes/{dispute.pk}/uphold/",
                        {"outcome": "reversal", "resolution": "Error"}, format="json")  # fmt: skip

    assert response.status_code == 400
    assert "took effect on 16 Mar 2026" in str(response.json()["outcome"])


def test_a_reversal_is_refused_once_the_change_took_effect(
    client, manager, analyst, customer_user, seat_contract
):
    # Back-dated to March: the seats were released then, and the customer has been without them.
    credit, dispute = _issued_and_disputed(manager, analyst, customer_user, seat_contract)

    refusal = services.dispute_uphold_refusal(actor=analyst, dispute=dispute, outcome="reversal")
    with pytest.raises(DomainError) as raised:
        services.dispute_uphold(actor=analyst, dispute_id=dispute.pk, outcome="reversal",
                                resolution="Issued in error.")  # fmt: skip

    assert refusal == str(raised.value)
    assert "took effect on 16 Mar 2026" in refusal
    assert "would bill for service it did not have" in refusal
    credit.refresh_from_db()
    dispute.refresh_from_db()
    assert (credit.status, dispute.status) == (Credit.Status.ISSUED, Dispute.Status.OPEN)
    client.force_login(analyst)
    page = client.get(reverse("credits:credit", args=[credit.pk])).content.decode()
    assert 'id="reversal-refusal"' in page and "16 Mar 2026" in page


def test_a_rejected_dispute_tells_the_customer_why(
    client, manager, analyst, customer_user, seat_contract, django_capture_on_commit_callbacks
):
    credit, dispute = _issued_and_disputed(manager, analyst, customer_user, seat_contract)

    with django_capture_on_commit_callbacks(execute=True):
        services.dispute_reject(actor=analyst, dispute_id=dispute.pk, reason="Order says 30.")

    [sent] = [m for m in mail.outbox if m.subject.startswith("Your dispute")]
    assert "Reason: Order says 30." in sent.body
    client.force_login(customer_user)
    page = client.get(reverse("credits_portal:credit", args=[credit.pk])).content.decode()
    assert "Not upheld: the credit stands." in page


def test_overdue_disputes_are_reminded_then_escalated_once(
    manager, analyst, controller, customer_user, seat_contract, django_capture_on_commit_callbacks
):
    controller.email = "grace@example.com"
    controller.save()
    _, dispute = _issued_and_disputed(manager, analyst, customer_user, seat_contract)

    early = services.process_dispute_deadlines(today=dispute.due_on - timedelta(days=5))
    soon = services.process_dispute_deadlines(today=dispute.due_on - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        late = services.process_dispute_deadlines(today=dispute.due_on + timedelta(days=1))
    again = services.process_dispute_deadlines(today=dispute.due_on + timedelta(days=2))

    assert (early, soon, late, again) == (
        {"reminded": 0, "escalated": 0}, {"reminded": 1, "escalated": 0},
        {"reminded": 0, "escalated": 1}, {"reminded": 0, "escalated": 0},
    )  # fmt: skip
    assert [m.to for m in mail.outbox if m.subject.startswith("Escalated")] == [
        ["grace@example.com"]
    ]
    assert AuditEvent.objects.filter(action="dispute.escalate").count() == 1


def test_the_api_withdraws_and_upholds(
    manager, analyst, customer_user, seat_contract, current_contract, today
):
    from rest_framework.test import APIClient

    api = APIClient()
    credit = _sent_back(manager, analyst, seat_contract)
    api.force_authenticate(manager)
    response = api.post(f"/api/v1/credits/credits/{credit.pk}/withdraw/", {"reason": "Gone"})
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"

    issued, dispute = _future_issued_and_disputed(
        manager, analyst, customer_user, current_contract, today
    )
    api.force_authenticate(analyst)
    response = api.post(f"/api/v1/credits/disputes/{dispute.pk}/uphold/",
                        {"outcome": "reversal", "resolution": "Error"}, format="json")  # fmt: skip
    assert response.status_code == 200 and response.json()["outcome"] == "reversal"
