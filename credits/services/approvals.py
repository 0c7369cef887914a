"""The approval chain: decisions, segregation of duties, issue, deadlines."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from audit.services import audit_record
from licensing import services as licensing_services
from licensing.errors import ActionForbidden, ConflictError, DomainError, TransitionNotAllowed
from licensing.roles import ADMIN, FINANCE_ROLES, Role, role_of

from .. import mail, quoting
from ..engine import declining_schedule
from ..models import (
    AccountEntry,
    ApprovalStep,
    Credit,
    CreditForm,
    CreditNoteSequence,
)
from ..selectors import credit_note_number, policy_rules
from ._common import _mail_role, _reason, _refusal, _stamp, role_label
from .calculator import _quote_dict
from .changes import _carry_out_change
from .exchange import convert


def _lock_credit(credit_id: int, expected_version: int | None) -> Credit:
    credit = (
        Credit.objects.select_for_update(of=("self",))
        .select_related("change", "policy")
        .get(pk=credit_id)
    )
    if expected_version is not None and credit.version != expected_version:
        raise ConflictError(
            f"{credit} was changed by someone else since you loaded it "
            f"({credit.get_status_display().lower()} now). Reload and try again."
        )
    return credit


def _current_step(credit: Credit) -> ApprovalStep:
    step = credit.steps.filter(status=ApprovalStep.Status.PENDING).order_by("order").first()
    if step is None or credit.status != Credit.Status.PENDING:
        raise TransitionNotAllowed(
            f"{credit} is {credit.get_status_display().lower()}; no step awaits a decision."
        )
    return step


def _check_decider(actor, credit: Credit, step: ApprovalStep, rules) -> None:
    role = role_of(actor)
    escalated_to = step.escalated_to or (rules.escalate_to if step.escalated_at else None)
    if role != ADMIN and role not in (step.role, escalated_to):
        raise ActionForbidden(f"Step {step.order} needs a {Role(step.role).label.lower()}.")
    if actor.pk in (credit.change.requested_by_id, credit.calculated_by_id):
        raise ActionForbidden("Segregation of duties: you requested or calculated this credit.")
    if credit.steps.filter(decided_by=actor).exclude(status=ApprovalStep.Status.SENT_BACK).exists():
        raise ActionForbidden("Segregation of duties: you already decided a step of this credit.")


def credit_decision_refusal(*, actor, credit: Credit) -> str | None:
    """Why `actor` may not decide the credit's current step now, or None when they may.

    Read-only: pages use it to offer the decision only to those the services would accept.
    """
    return _refusal(_check_decision, actor, credit)


def _check_decision(actor, credit: Credit) -> None:
    _check_decider(actor, credit, _current_step(credit), policy_rules(credit.policy))


def _check_resubmitter(actor, credit: Credit) -> None:
    if actor.pk not in (credit.change.requested_by_id, credit.calculated_by_id):
        raise ActionForbidden("Only whoever requested the credit resubmits it.")
    if not can_proceed(credit.resubmit):
        raise TransitionNotAllowed(f"{credit} is {credit.get_status_display().lower()}.")


def credit_resubmit_refusal(*, actor, credit: Credit) -> str | None:
    """Why `actor` may not resubmit `credit` now, or None when they may."""
    return _refusal(_check_resubmitter, actor, credit)


def _check_withdrawer(actor, credit: Credit) -> None:
    if actor.pk not in (credit.change.requested_by_id, credit.calculated_by_id):
        raise ActionForbidden("Only whoever requested the credit withdraws it.")
    if not can_proceed(credit.withdraw):
        raise TransitionNotAllowed(
            f"{credit} is {credit.get_status_display().lower()}: only a sent-back credit can be "
            f"withdrawn."
        )


def credit_withdraw_refusal(*, actor, credit: Credit) -> str | None:
    """Why `actor` may not withdraw `credit` now, or None when they may."""
    return _refusal(_check_withdrawer, actor, credit)


def _check_rejecter(actor, credit: Credit) -> None:
    """A pending credit is rejected by whoever may decide its step; a sent-back one, which has
    no step awaiting a decision, by finance, never by its requester."""
    if credit.status != Credit.Status.SENT_BACK:
        _check_decision(actor, credit)
        return
    if role_of(actor) not in FINANCE_ROLES | {ADMIN}:
        raise ActionForbidden("Finance rejects a sent-back credit.")
    if actor.pk in (credit.change.requested_by_id, credit.calculated_by_id):
        raise ActionForbidden("Segregation of duties: you requested or calculated this credit.")


def credit_reject_refusal(*, actor, credit: Credit) -> str | None:
    """Why `actor` may not reject `credit` now, or None when they may."""
    return _refusal(_check_rejecter, actor, credit)


def _bump(credit: Credit, *, actor, reason: str) -> None:
    credit.version += 1
    _stamp(credit, actor=actor, reason=reason)
    credit.save()


@transaction.atomic
def credit_approve(*, actor, credit_id: int, reason: str = "", expected_version=None) -> Credit:
    credit = _lock_credit(credit_id, expected_version)
    step = _current_step(credit)
    rules = policy_rules(credit.policy)
    _check_decider(actor, credit, step, rules)
    now = timezone.now()
    step.status, step.decided_by, step.decided_at, step.reason = (
        ApprovalStep.Status.APPROVED, actor, now, reason.strip(),
    )  # fmt: skip
    _stamp(step, actor=actor, reason=reason or "Approved")
    step.save()
    following = credit.steps.filter(status=ApprovalStep.Status.WAITING).order_by("order").first()
    audit_record(actor=actor, action="credit.approve_step", object_type="credits.credit",
                 object_id=credit.pk, reason=reason, policy_version=credit.policy.label,
                 data={"step": step.order, "role": step.role})  # fmt: skip
    if following is not None:
        following.status = ApprovalStep.Status.PENDING
        following.due_at = now + timedelta(hours=rules.step_deadline_hours)
        following.save(update_fields=["status", "due_at"])
        _bump(credit, actor=actor, reason=f"Step {step.order} approved")
        mail.tell_approvers(following)
        return credit
    credit.approve()
    _bump(credit, actor=actor, reason="Every step approved")
    return _issue(actor=actor, credit=credit)


def _next_number(year: int) -> str:
    sequence, _ = CreditNoteSequence.objects.get_or_create(year=year)
    sequence = CreditNoteSequence.objects.select_for_update().get(pk=sequence.pk)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return credit_note_number(year, sequence.last_number)


def _issue(*, actor, credit: Credit) -> Credit:
    """Number the credit, post it to the account and apply its form; same transaction."""
    quoting.check_paid_ceiling(credit=credit)
    now = timezone.now()
    credit.issue()
    # Numbered by the year of its issue instant in business time, the one clock read here.
    credit.number = _next_number(timezone.localtime(now).year)
    credit.issued_at = now
    _bump(credit, actor=actor, reason=f"Issued as {credit.number}")
    _apply_form(actor=actor, credit=credit)
    audit_record(actor=actor, action="credit.issue", object_type="credits.credit",
                 object_id=credit.pk, policy_version=credit.policy.label,
                 data={"number": credit.number, "amount": credit.amount,
                       "currency": credit.currency, "form": credit.form})  # fmt: skip
    mail.tell_customer_issued(credit)
    return credit


def _apply_form(*, actor, credit: Credit) -> None:
    change = credit.change
    reason = (
        f"{credit.number}: {change.get_intent_display().lower()} from "
        f"{change.effective_date:%-d %b %Y}"
    )
    kinds = {
        CreditForm.CREDIT_NOTE: AccountEntry.Kind.CREDIT_NOTE,
        CreditForm.FUTURE_DISCOUNT: AccountEntry.Kind.DISCOUNT,
        CreditForm.DEFERRAL: AccountEntry.Kind.DEFERRAL,
        CreditForm.SERVICE_EXTENSION: AccountEntry.Kind.EXTENSION,
        CreditForm.PLAN_CHANGE: AccountEntry.Kind.PLAN_CHANGE,
    }
    description = {
        CreditForm.CREDIT_NOTE: "Credit note posted to the account.",
        CreditForm.FUTURE_DISCOUNT: "Discount on future invoices: "
        + ", ".join(f"{a} {credit.currency}" for a in credit.schedule)
        + ".",
        CreditForm.DEFERRAL: "Value deferred to a later entitlement of the customer's choice.",
        CreditForm.SERVICE_EXTENSION: "Value given as more service time on what remains.",
        CreditForm.PLAN_CHANGE: "Credit applied to the smaller plan.",
    }[credit.form]
    AccountEntry.objects.create(
        customer=credit.customer, credit=credit, kind=kinds[credit.form], amount=credit.amount,
        currency=credit.currency, description=description,
    )  # fmt: skip
    _carry_out_change(change=change, form=credit.form, reason=reason)


def _decide_against(*, actor, credit_id, reason, expected_version, outcome: str) -> Credit:
    credit = _lock_credit(credit_id, expected_version)
    step = _current_step(credit)
    _check_decider(actor, credit, step, policy_rules(credit.policy))
    step.status = (
        ApprovalStep.Status.REJECTED if outcome == "reject" else ApprovalStep.Status.SENT_BACK
    )
    step.decided_by, step.decided_at, step.reason = actor, timezone.now(), reason
    _stamp(step, actor=actor, reason=reason)
    step.save()
    getattr(credit, outcome)()
    _bump(credit, actor=actor, reason=reason)
    audit_record(actor=actor, action=f"credit.{outcome}", object_type="credits.credit",
                 object_id=credit.pk, reason=reason, policy_version=credit.policy.label,
                 data={"step": step.order, "role": step.role})  # fmt: skip
    mail.tell_customer_decided(credit, outcome=outcome, reason=reason)
    return credit


@transaction.atomic
def credit_reject(*, actor, credit_id: int, reason: str, expected_version=None) -> Credit:
    """No credit: the step's decider rejects a pending credit, finance a sent-back one. Either
    way the contract line is free for a new request."""
    reason = _reason(reason, "reject a credit")
    credit = _lock_credit(credit_id, expected_version)
    if credit.status != Credit.Status.SENT_BACK:
        return _decide_against(actor=actor, credit_id=credit_id, reason=reason,
                               expected_version=expected_version, outcome="reject")  # fmt: skip
    _check_rejecter(actor, credit)
    credit.reject()
    _bump(credit, actor=actor, reason=reason)
    audit_record(actor=actor, action="credit.reject", object_type="credits.credit",
                 object_id=credit.pk, reason=reason, policy_version=credit.policy.label,
                 data={"from": Credit.Status.SENT_BACK.value})  # fmt: skip
    mail.tell_customer_decided(credit, outcome="reject", reason=reason)
    return credit


@transaction.atomic
def credit_withdraw(*, actor, credit_id: int, reason: str, expected_version=None) -> Credit:
    """The requester gives up a sent-back credit; its contract line is free again."""
    reason = _reason(reason, "withdraw a credit")
    credit = _lock_credit(credit_id, expected_version)
    _check_withdrawer(actor, credit)
    credit.withdraw()
    _bump(credit, actor=actor, reason=reason)
    audit_record(actor=actor, action="credit.withdraw", object_type="credits.credit",
                 object_id=credit.pk, reason=reason,
                 policy_version=credit.policy.label)  # fmt: skip
    mail.tell_customer_decided(credit, outcome="withdraw", reason=reason)
    return credit


@transaction.atomic
def credit_send_back(*, actor, credit_id: int, reason: str, expected_version=None) -> Credit:
    reason = _reason(reason, "send a credit back")
    return _decide_against(actor=actor, credit_id=credit_id, reason=reason,
                           expected_version=expected_version, outcome="send_back")  # fmt: skip


@transaction.atomic
def credit_resubmit(
    *, actor, credit_id: int, reason: str, form: str | None = None,
    corrections: list[dict] | None = None, expected_version=None,
) -> Credit:  # fmt: skip
    """The requester answers a send-back; approval starts again from the first step.

    `corrections` (per contract line: `quantity_after`, `units_used`) are the inputs the
    requester corrected: the engine prices the credit again from them under its frozen policy,
    and the approval chain is the one the new amount needs."""
    reason = _reason(reason, "resubmit a credit")
    credit = _lock_credit(credit_id, expected_version)
    _check_resubmitter(actor, credit)
    rules = policy_rules(credit.policy)
    if form:
        if form not in rules.allowed_forms:
            raise DomainError(f"{credit.policy.name} does not offer that form.", field="form")
        credit.form = form
    repriced = _reprice(actor=actor, credit=credit, corrections=corrections or [], rules=rules,
                        reason=reason)  # fmt: skip
    credit.resubmit()
    now = timezone.now()
    for step in _steps_for_amount(credit, rules):
        first = step.order == 1
        step.status = ApprovalStep.Status.PENDING if first else ApprovalStep.Status.WAITING
        step.due_at = now + timedelta(hours=rules.step_deadline_hours) if first else None
        # A new round: earlier decisions stay in the history, not in the way of deciding again.
        step.reminded_at = step.escalated_at = step.decided_by = step.decided_at = None
        step.reason = step.escalated_to = ""
        _stamp(step, actor=actor, reason=reason)
        step.save()
    _bump(credit, actor=actor, reason=reason)
    audit_record(
        actor=actor,
        action="credit.resubmit",
        object_type="credits.credit",
        object_id=credit.pk,
        reason=reason,
        policy_version=credit.policy.label,
        data={"form": credit.form, "amount": credit.amount, "currency": credit.currency,
              "repriced": repriced},
    )  # fmt: skip
    mail.tell_approvers(credit.steps.get(order=1))
    return credit


def _reprice(*, actor, credit: Credit, corrections: list[dict], rules, reason: str) -> bool:
    """Price the credit again from the corrected inputs; False when nothing was corrected."""
    change = credit.change
    lines = list(change.lines.order_by("pk"))
    frozen = {line.contract_line_id: line for line in lines}
    changed = [
        c for c in corrections
        if c.get("contract_line") not in frozen
        or any(c.get(key) is not None and c[key] != getattr(frozen[c["contract_line"]], key)
               for key in ("quantity_after", "units_used"))
    ]  # fmt: skip
    if not changed:
        return False
    inputs = quoting.corrected_quote_inputs(credit=credit, corrections=corrections)
    priced = [quoting.price_line(spec, rules.engine) for spec in inputs.lines]
    result = quoting.total_quote(priced, rules.engine, credit.currency, change.intent)
    if result.total <= 0:
        raise DomainError(
            "With these inputs no credit is due: withdraw the request instead.",
            field="corrections",
        )
    for spec, line_quote in zip(inputs.lines, result.lines, strict=True):
        line = frozen[spec.contract_line.pk]
        line.invoice_line, line.amount_paid = spec.invoice_line, spec.line.amount_paid
        line.quantity_after, line.units_used = spec.quantity_after, spec.line.units_used
        line.credit, line.explanation = line_quote.credit, line_quote.explanation
        line.save()
    change.quote, change.total = _quote_dict(result, credit.policy), result.total
    _stamp(change, actor=actor, reason=reason)
    change.save(update_fields=["quote", "total"])
    conversion = convert(
        amount=result.total, currency=credit.currency, base=rules.base_currency,
        on=timezone.localdate(change.requested_at),
    )  # fmt: skip
    credit.amount, credit.base_amount = result.total, conversion.amount
    if credit.form == CreditForm.FUTURE_DISCOUNT:
        periods = rules.payout_periods if rules.payout_mode == "declining" else 1
        credit.schedule = [str(a) for a in declining_schedule(result.total, periods,
                                                               credit.currency)]  # fmt: skip
    return True


def _steps_for_amount(credit: Credit, rules) -> list[ApprovalStep]:
    """The credit's steps, as many and for the roles its (possibly new) amount needs in the
    policy's currency: extra ones go, missing ones are added."""
    wanted = rules.steps_for(credit.base_amount if credit.base_currency else credit.amount)
    steps = list(credit.steps.order_by("order"))
    for extra in steps[len(wanted) :]:
        _stamp(extra, actor=None, reason="Not needed for the corrected amount")
        extra.delete()
    steps = steps[: len(wanted)]
    for step, rule in zip(steps, wanted, strict=False):
        step.role, step.threshold = rule.role, rule.threshold
    for order, rule in enumerate(wanted[len(steps) :], start=len(steps) + 1):
        steps.append(ApprovalStep(credit=credit, order=order, role=rule.role,
                                  threshold=rule.threshold))  # fmt: skip
    return steps


# Deadlines


def process_approval_deadlines(*, now=None) -> dict[str, int]:
    """Beat job: remind approvers of steps getting old, escalate overdue ones. Safe to rerun.

    Each reminder and each escalation is its own transaction: the step's stamp (with history),
    the audit event and the mail in the outbox commit together or not at all, and the mail is
    sent after commit by a retried task. One step failing stops none of the others.
    """
    now = now or timezone.now()
    counts = {"reminded": 0, "escalated": 0}
    pending = ApprovalStep.objects.filter(status=ApprovalStep.Status.PENDING).select_related(
        "credit__policy"
    )
    system = licensing_services.system_actor()
    for step in pending:
        rules = policy_rules(step.credit.policy)
        started = step.due_at - timedelta(hours=rules.step_deadline_hours)
        remind_at = started + timedelta(hours=rules.reminder_after_hours)
        if step.reminded_at is None and now >= remind_at and _remind(step, now, actor=system):
            counts["reminded"] += 1
        overdue = step.escalated_at is None and now >= step.due_at
        if overdue and _escalate(step, now, actor=system, escalate_to=rules.escalate_to):
            counts["escalated"] += 1
    return counts


def _claim(step: ApprovalStep, field: str) -> ApprovalStep | None:
    # The locked re-read claims the work: a duplicate run waits, then finds the stamp and does
    # nothing, so nothing is sent twice.
    return (
        ApprovalStep.objects.select_for_update()
        .select_related("credit__policy")
        .filter(pk=step.pk, status=ApprovalStep.Status.PENDING, **{f"{field}__isnull": True})
        .first()
    )


@transaction.atomic
def _remind(step: ApprovalStep, now, *, actor) -> bool:
    step = _claim(step, "reminded_at")
    if step is None:
        return False
    step.reminded_at = now
    _stamp(step, actor=actor, reason="Approvers reminded")
    step.save(update_fields=["reminded_at"])
    due = timezone.localtime(step.due_at)
    _mail_role(step.role, kind="credit.remind",
               subject=f"Reminder: {step.credit} awaits your approval",
               body=f"Step {step.order} is due {due:%-d %b %Y, %H:%M}.")  # fmt: skip
    return True


@transaction.atomic
def _escalate(step: ApprovalStep, now, *, actor, escalate_to: str) -> bool:
    step = _claim(step, "escalated_at")
    if step is None:
        return False
    step.escalated_at, step.escalated_to = now, escalate_to
    _stamp(step, actor=actor, reason=f"Overdue: escalated to the {role_label(escalate_to)}")
    step.save(update_fields=["escalated_at", "escalated_to"])
    audit_record(actor=actor, action="credit.escalate", object_type="credits.credit",
                 object_id=step.credit_id, policy_version=step.credit.policy.label,
                 data={"step": step.order, "to": escalate_to})  # fmt: skip
    _mail_role(escalate_to, kind="credit.escalate",
               subject=f"Escalated: {step.credit} is overdue",
               body=f"Step {step.order} ({role_label(step.role)}) passed its deadline; you may "
               f"decide it.")  # fmt: skip
    return True
