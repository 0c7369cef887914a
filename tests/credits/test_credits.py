from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone

from audit.models import AuditEvent
from audit.selectors import audit_verify_chain
from credits import services
from credits.engine import Line, QuoteRequest, quote
from credits.models import AccountEntry, ApprovalStep, ChangeRequest, Credit, CreditPolicyVersion
from credits.rules import DEFAULT_RULES
from credits.selectors import credit_policy_in_force, policy_rules
from licensing.errors import ActionForbidden, ConflictError, DomainError, TransitionNotAllowed
from licensing.models import Entitlement
from licensing.roles import Role
from licensing.selectors import contract_holdings_on
from tests.factories import UserFactory
from tests.support import downgrade

pytestmark = pytest.mark.django_db


def quote_seats(*, released: int, period: tuple[date, date], effective: date) -> Decimal:
    """What the engine credits for releasing seats of 50 bought for USD 1,500.00 in `period`."""
    line = Line("seats", "seat", Decimal("1500.00"), quantity_before=50,
                quantity_after=50 - released)  # fmt: skip
    request = QuoteRequest("USD", "downgrade", period[0], period[1], effective, (line,))
    return quote(request, policy_rules(credit_policy_in_force(on=effective)).engine).total


def test_a_request_freezes_the_quote_and_policy_and_opens_the_chain(manager, seat_contract):
    change = downgrade(manager, seat_contract, 20)

    assert change.total == Decimal("464.52")
    assert change.policy.label == "credit/v1"
    assert change.quote["lines"][0]["credit"] == "464.52"
    assert "30 of 50 seats released for 16 of 31 days" in change.quote["lines"][0]["explanation"]
    credit = change.credit
    assert credit.status == Credit.Status.PENDING
    assert [(s.role, s.status) for s in credit.steps.all()] == [
        (Role.FINANCE_ANALYST, ApprovalStep.Status.PENDING)
    ]
    assert credit.steps.get().due_at is not None


def test_thresholds_add_approval_steps(manager, seat_contract):
    change = downgrade(manager, seat_contract, 0, effective=date(2026, 3, 1))

    assert change.total == Decimal("1500.00")
    assert [s.role for s in change.credit.steps.all()] == [
        Role.FINANCE_ANALYST, Role.FINANCE_APPROVER
    ]  # fmt: skip


def test_approving_every_step_issues_a_numbered_credit_and_applies_the_downgrade(
    manager, analyst, seat_contract, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    credit = downgrade(manager, seat_contract, 20).credit

    with django_capture_on_commit_callbacks(execute=True):
        issued = services.credit_approve(actor=analyst, credit_id=credit.pk, reason="Checked")

    year = timezone.localdate().year
    assert issued.status == Credit.Status.ISSUED
    assert issued.number == f"CN-{year}-000001"
    entry = AccountEntry.objects.get(credit=credit)
    assert (entry.kind, entry.amount) == (AccountEntry.Kind.CREDIT_NOTE, Decimal("464.52"))
    pool = Entitlement.objects.get(contract=seat_contract)
    assert pool.quantity == 20
    assert seat_contract.lines.get().quantity == 20  # invoiced for 20 from now on
    holdings = contract_holdings_on(contract_id=seat_contract.pk, on=date(2026, 3, 16))
    assert holdings[pool.pk].quantity == 20
    assert AuditEvent.objects.filter(action="credit.issue", object_id=str(credit.pk)).exists()
    assert any(issued.number in m.subject for m in mail.outbox)
    assert audit_verify_chain().ok


def test_credit_note_numbers_are_gapless_and_in_order(manager, analyst, seat_contract):
    numbers = []
    for after in (40, 30, 20):
        credit = downgrade(manager, seat_contract, after).credit
        numbers.append(services.credit_approve(actor=analyst, credit_id=credit.pk).number)

    year = timezone.localdate().year
    assert numbers == [f"CN-{year}-00000{i}" for i in (1, 2, 3)]


def test_successive_downgrades_add_up_to_one_combined(manager, analyst, seat_contract):
    first = downgrade(manager, seat_contract, 30).credit
    services.credit_approve(actor=analyst, credit_id=first.pk)

    second = downgrade(manager, seat_contract, 20)

    # 50 → 30 → 20 on one date credits what 50 → 20 would: USD 464.52 in all.
    assert first.amount + second.total == Decimal("464.52")


def test_a_second_request_waits_for_the_first_to_be_decided(manager, analyst, seat_contract):
    first = downgrade(manager, seat_contract, 20)

    with pytest.raises(DomainError, match="awaiting a decision"):
        downgrade(analyst, seat_contract, 10)

    assert first.credit.status == Credit.Status.PENDING


def test_what_was_released_and_credited_cannot_be_released_again(manager, analyst, seat_contract):
    first = downgrade(manager, seat_contract, 1, effective=date(2026, 3, 1))
    services.credit_approve(actor=analyst, credit_id=first.credit.pk)
    services.credit_approve(actor=UserFactory(username="jo", role=Role.FINANCE_APPROVER),
                            credit_id=first.credit.pk)  # fmt: skip

    again = downgrade(manager, seat_contract, 1, effective=date(2026, 3, 1))

    # A downgrade to no seats is a termination now, so the first leaves one seat: 49 of 50.
    assert first.total == Decimal("1470.00")
    assert again.total == Decimal("0.00")
    assert "nothing is released" in again.quote["lines"][0]["explanation"]


@pytest.mark.parametrize(
    ("persona", "error"),
    [
        ("customer_user", ActionForbidden),  # customers never approve
        ("manager", ActionForbidden),  # wrong role
        ("approver", ActionForbidden),  # the first step is the analyst's
        ("auditor", ActionForbidden),
    ],
    indirect=["persona"],
)
def test_only_the_steps_role_may_approve_it(persona, error, analyst, seat_contract, manager):
    credit = downgrade(manager, seat_contract, 20).credit

    with pytest.raises(error):
        services.credit_approve(actor=persona, credit_id=credit.pk)

    assert Credit.objects.get(pk=credit.pk).status == Credit.Status.PENDING


def test_whoever_requested_a_credit_cannot_approve_it(seat_contract):
    requester = UserFactory(username="ana", role=Role.FINANCE_ANALYST)
    credit = downgrade(requester, seat_contract, 20).credit

    with pytest.raises(ActionForbidden, match="Segregation of duties"):
        services.credit_approve(actor=requester, credit_id=credit.pk)


def test_nobody_approves_two_steps_of_one_credit(manager, analyst, seat_contract):
    credit = downgrade(manager, seat_contract, 0, effective=date(2026, 3, 1)).credit
    services.credit_approve(actor=analyst, credit_id=credit.pk)
    # Even an administrator who could act for any role is held to one step.
    analyst.is_superuser = True
    analyst.save()

    with pytest.raises(ActionForbidden, match="already decided"):
        services.credit_approve(actor=analyst, credit_id=credit.pk)


def test_a_second_approval_of_the_same_step_is_refused(manager, analyst, second_analyst,
                                                       seat_contract):  # fmt: skip
    credit = downgrade(manager, seat_contract, 20).credit
    services.credit_approve(actor=analyst, credit_id=credit.pk)

    with pytest.raises(TransitionNotAllowed):
        services.credit_approve(actor=second_analyst, credit_id=credit.pk)

    assert Credit.objects.filter(status=Credit.Status.ISSUED).count() == 1


def test_a_stale_version_is_a_conflict(manager, analyst, seat_contract):
    credit = downgrade(manager, seat_contract, 0, effective=date(2026, 3, 1)).credit
    services.credit_approve(actor=analyst, credit_id=credit.pk)

    with pytest.raises(ConflictError):
        services.credit_reject(actor=analyst, credit_id=credit.pk, reason="No",
                               expected_version=credit.version - 1)  # fmt: skip


@pytest.mark.parametrize("decide", [services.credit_reject, services.credit_send_back])
def test_reject_and_send_back_need_a_reason(decide, manager, analyst, seat_contract):
    credit = downgrade(manager, seat_contract, 20).credit

    with pytest.raises(DomainError, match="reason"):
        decide(actor=analyst, credit_id=credit.pk, reason=" ")


def test_a_rejected_credit_is_final(manager, analyst, second_analyst, seat_contract):
    credit = downgrade(manager, seat_contract, 20).credit

    services.credit_reject(actor=analyst, credit_id=credit.pk, reason="Seats still in use")

    credit.refresh_from_db()
    assert credit.status == Credit.Status.REJECTED
    assert credit.steps.get().reason == "Seats still in use"
    with pytest.raises(TransitionNotAllowed):
        services.credit_approve(actor=second_analyst, credit_id=credit.pk)


def test_a_sent_back_credit_is_resubmitted_and_approved_afresh(manager, analyst, second_analyst,
                                                                 seat_contract):  # fmt: skip
    credit = downgrade(manager, seat_contract, 20).credit
    services.credit_send_back(actor=analyst, credit_id=credit.pk, reason="Pick a discount")

    services.credit_resubmit(actor=manager, credit_id=credit.pk, reason="Changed",
                             form="future_discount")  # fmt: skip
    issued = services.credit_approve(actor=second_analyst, credit_id=credit.pk)

    assert issued.status == Credit.Status.ISSUED
    assert issued.form == "future_discount"


def test_reminders_then_escalation_are_sent_once(
    manager, analyst, controller, seat_contract, django_capture_on_commit_callbacks
):
    controller.email = "grace@example.com"
    controller.save()
    credit = downgrade(manager, seat_contract, 20).credit
    step = credit.steps.get()
    mail.outbox.clear()

    later = step.due_at - timedelta(hours=1)
    overdue = step.due_at + timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.process_approval_deadlines(now=later) == {"reminded": 1, "escalated": 0}
        assert services.process_approval_deadlines(now=later) == {"reminded": 0, "escalated": 0}
        assert services.process_approval_deadlines(now=overdue) == {"reminded": 0, "escalated": 1}
        assert services.process_approval_deadlines(now=overdue)["escalated"] == 0

    assert any("Escalated" in m.subject and "grace@example.com" in m.to for m in mail.outbox)
    issued = services.credit_approve(actor=controller, credit_id=credit.pk)
    assert issued.status == Credit.Status.ISSUED


def test_service_extension_moves_the_end_of_what_remains(manager, analyst, seat_contract):
    credit = downgrade(manager, seat_contract, 20, form="service_extension").credit

    services.credit_approve(actor=analyst, credit_id=credit.pk)

    pool = Entitlement.objects.get(contract=seat_contract)
    # USD 464.52 buys 464.52 / (20 seats × USD 30 × 12 / 365 a day) = 23 whole days.
    assert pool.ends_on == date(2027, 1, 24)
    assert pool.ledger.filter(action="extend").exists()


def test_a_form_the_policy_does_not_allow_is_refused(manager, seat_contract, controller):
    rules = {**DEFAULT_RULES, "allowed_forms": ["credit_note"]}
    CreditPolicyVersion.objects.create(
        number=2, status="published", effective_from=date(2026, 3, 10), rules=rules,
        title="v2", introduction="Only credit notes.",
    )  # fmt: skip

    with pytest.raises(DomainError, match="does not offer"):
        downgrade(manager, seat_contract, 20, form="future_discount")


def test_a_customer_cannot_request_for_another_customer(other_customer_user, current_contract,
                                                        today):  # fmt: skip
    with pytest.raises(ActionForbidden):
        downgrade(other_customer_user, current_contract, 20, effective=today)


# Backdating: a customer asks from today on; staff may record a change that already happened.


@pytest.mark.parametrize(("days", "allowed"), [(-1, False), (0, True), (1, True)])
def test_a_customer_cannot_backdate_a_change(customer_user, current_contract, today, days,
                                             allowed):  # fmt: skip
    effective = today + timedelta(days=days)

    if allowed:
        change = downgrade(customer_user, current_contract, 20, effective=effective)
        assert (change.effective_date, change.requested_by) == (effective, customer_user)
    else:
        with pytest.raises(DomainError, match="a change cannot go back"):
            downgrade(customer_user, current_contract, 20, effective=effective)
        assert not ChangeRequest.objects.exists()
        assert not AuditEvent.objects.filter(action="change_request.create").exists()


@pytest.mark.parametrize("persona", ["manager", "analyst", "admin_user"], indirect=True)
def test_staff_may_backdate_a_change_within_the_term(persona, current_contract, today, period):
    expected = quote_seats(released=30, period=period, effective=period[0])

    change = downgrade(persona, current_contract, 20, effective=period[0])

    assert change.effective_date == period[0] < today
    assert change.total == expected
    assert change.credit.calculated_by == persona


@pytest.mark.parametrize(
    ("persona", "message"),
    [("customer_user", "a change cannot go back"), ("manager", "within the contract's term")],
    indirect=["persona"],
)
def test_nobody_backdates_a_change_before_the_term(persona, message, current_contract):
    before_term = current_contract.term_start - timedelta(days=1)

    with pytest.raises(DomainError, match=message):
        downgrade(persona, current_contract, 20, effective=before_term)

    assert not ChangeRequest.objects.exists()


def test_publishing_writes_text_from_the_engine_and_tells_customers(
    controller, customer_user, django_capture_on_commit_callbacks
):
    customer_user.email = "nina@example.com"
    customer_user.save()
    starts = timezone.localdate() + timedelta(days=30)
    rules = {**DEFAULT_RULES, "termination": "period_end", "prepaid_refundable_share": "0.5"}
    draft = services.policy_create_draft(
        actor=controller, rules=rules, title="Credit policy 2", introduction="Clearer.",
        effective_from=starts, change_summary="Terminations credit from the period end.",
    )  # fmt: skip
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        published = services.policy_publish(
            on=timezone.localdate(), actor=controller, policy_id=draft.pk
        )

    assert published.status == CreditPolicyVersion.Status.PUBLISHED
    assert "only from the end of the current billing period" in published.text
    termination = next(e for e in published.examples if "termination" in e["title"].lower())
    assert termination["total"] == "9000.00"  # nothing for March, half of the prepaid 18,000
    assert any("nina@example.com" in m.to for m in mail.outbox)
    assert credit_policy_in_force(on=starts - timedelta(days=1)).number == 1
    assert credit_policy_in_force(on=starts).number == published.number
    with pytest.raises(TransitionNotAllowed):
        services.policy_publish(on=timezone.localdate(), actor=controller, policy_id=draft.pk)


def test_only_the_controller_drafts_policies(analyst):
    with pytest.raises(ActionForbidden):
        services.policy_create_draft(
            actor=analyst, rules=DEFAULT_RULES, title="x", introduction="x",
            effective_from=date(2030, 1, 1), change_summary="x",
        )  # fmt: skip


def test_a_customer_disputes_an_issued_credit_and_finance_answers(customer_user, manager, analyst,
                                                                  seat_contract):  # fmt: skip
    credit = downgrade(manager, seat_contract, 20).credit
    services.credit_approve(actor=analyst, credit_id=credit.pk)

    dispute = services.dispute_open(actor=customer_user, credit_id=credit.pk,
                                    reason="We released 35 seats, not 30.",
                                    on=timezone.localdate())  # fmt: skip
    resolved = services.dispute_reject(actor=analyst, dispute_id=dispute.pk,
                                       reason="The order form says 30.")  # fmt: skip

    assert dispute.due_on == timezone.localdate() + timedelta(days=10)
    assert resolved.status == "dismissed"
    with pytest.raises(DomainError):
        services.dispute_open(
            on=timezone.localdate(), actor=customer_user, credit_id=credit.pk, reason=" "
        )


def test_a_pending_credit_cannot_be_disputed(customer_user, manager, seat_contract):
    credit = downgrade(manager, seat_contract, 20).credit

    with pytest.raises(TransitionNotAllowed):
        services.dispute_open(
            on=timezone.localdate(), actor=customer_user, credit_id=credit.pk, reason="Too low"
        )
