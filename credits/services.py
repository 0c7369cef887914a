"""Every write in credits: policies, change requests, the approval chain, issue and disputes."""

from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from audit.services import audit_record
from licensing import services as licensing_services
from licensing.errors import ActionForbidden, ConflictError, DomainError, TransitionNotAllowed
from licensing.models import Contract, ContractLine, Customer, Entitlement
from licensing.proration import (
    Component,
    Line,
    ProrationError,
    Quote,
    QuoteRequest,
    declining_schedule,
    money_text,
    quote,
)
from licensing.roles import Role, role_of

from . import quoting
from .models import (
    AccountEntry,
    ApprovalStep,
    ChangeLine,
    ChangeRequest,
    Credit,
    CreditForm,
    CreditNoteSequence,
    CreditPolicyVersion,
    Dispute,
)
from .policy_text import render_policy
from .rules import RulesError, parse_rules
from .selectors import credit_policy_in_force, policy_rules

FINANCE = {Role.FINANCE_ANALYST, Role.FINANCE_APPROVER, Role.FINANCIAL_CONTROLLER}


def _reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(f"Give a reason to {what}.")
    return reason


def _stamp(instance, *, actor, reason: str) -> None:
    instance._history_user = actor
    instance._change_reason = reason


def _quote_dict(result: Quote, policy: CreditPolicyVersion) -> dict:
    return {
        "currency": result.currency,
        "policy_version": policy.label,
        "lines": [
            {
                "id": line.id,
                "credit": str(line.credit),
                "explanation": line.explanation,
                **(
                    {
                        "components": [
                            {"id": c.id, "credit": str(c.credit), "explanation": c.explanation}
                            for c in line.components
                        ]
                    }
                    if line.basis == "bundle"
                    else {}
                ),
            }
            for line in result.lines
        ],
        "total_credit": str(result.total),
        "notes": list(result.notes),
    }


def calculator_quote(data: dict, *, policy: CreditPolicyVersion) -> dict:
    """The public calculator: validated input in, the engine's explained answer out."""
    request = QuoteRequest(
        currency=data["currency"],
        intent=data["intent"],
        period_start=data["period_start"],
        period_end=data["period_end"],
        effective_date=data["effective_date"],
        lines=tuple(
            Line(
                id=line["id"],
                basis=line["basis"],
                amount_paid=line["amount_paid"],
                quantity_before=line.get("quantity_before"),
                quantity_after=line.get("quantity_after"),
                included_units=line.get("included_units"),
                units_used=line.get("units_used"),
                components=tuple(
                    Component(
                        c["id"],
                        c["standalone_price"],
                        c["quantity_before"],
                        c.get("quantity_after"),
                    )  # fmt: skip
                    for c in line.get("components", [])
                ),
            )
            for line in data["lines"]
        ),
    )
    rules = policy_rules(policy)
    if request.intent not in rules.eligible_intents:
        raise DomainError(f"Policy {policy.label} gives no credit for a {request.intent}.")
    ineligible = {line.basis for line in request.lines} - set(rules.eligible_bases)
    if ineligible:
        raise DomainError(
            f"Policy {policy.label} gives no credit on {', '.join(ineligible)} lines."
        )
    try:
        result = quote(request, rules.engine)
    except ProrationError as error:
        raise DomainError(f"{error.field}: {error.message}") from None
    return _quote_dict(result, policy)


# Policies


@transaction.atomic
def policy_create_draft(
    *, actor, rules: dict, title: str, introduction: str, effective_from: date,
    change_summary: str,
) -> CreditPolicyVersion:  # fmt: skip
    if not actor.has_perm("credits.add_creditpolicyversion"):
        raise ActionForbidden("Only the financial controller drafts credit policies.")
    parse_rules(rules)  # RulesError names each wrong field
    number = (CreditPolicyVersion.objects.order_by("-number").values_list("number", flat=True)
              .first() or 0) + 1  # fmt: skip
    policy = CreditPolicyVersion(
        number=number, rules=rules, title=title, introduction=introduction,
        effective_from=effective_from, change_summary=change_summary,
    )  # fmt: skip
    _stamp(policy, actor=actor, reason="Drafted")
    policy.save()
    audit_record(actor=actor, action="credit_policy.draft", object_type="credits.policy",
                 object_id=policy.pk, policy_version=policy.label,
                 data={"rules": rules, "effective_from": effective_from})  # fmt: skip
    return policy


@transaction.atomic
def policy_publish(*, actor, policy_id: int) -> CreditPolicyVersion:
    """Freeze a draft: write its text and worked examples with the engine, tell customers."""
    if not actor.has_perm("credits.add_creditpolicyversion"):
        raise ActionForbidden("Only the financial controller publishes credit policies.")
    policy = CreditPolicyVersion.objects.select_for_update().filter(pk=policy_id).first()
    if policy is None:
        raise DomainError(f"There is no credit policy version {policy_id}.")
    if policy.status != CreditPolicyVersion.Status.DRAFT:
        raise TransitionNotAllowed(f"{policy.label} is {policy.status}; only a draft publishes.")
    today = timezone.localdate()
    if policy.effective_from <= today:
        raise DomainError(
            "A new version must take effect after today, so customers are told first."
        )
    try:
        rules = parse_rules(policy.rules)
    except RulesError as error:
        raise DomainError(f"The rules are not valid: {error}") from None
    policy.text, policy.examples = render_policy(
        rules, title=policy.title, introduction=policy.introduction
    )
    policy.status = CreditPolicyVersion.Status.PUBLISHED
    policy.published_at, policy.published_by = timezone.now(), actor
    _stamp(policy, actor=actor, reason="Published")
    policy.save()
    audit_record(actor=actor, action="credit_policy.publish", object_type="credits.policy",
                 object_id=policy.pk, policy_version=policy.label,
                 data={"effective_from": policy.effective_from})  # fmt: skip
    transaction.on_commit(lambda: _notify_customers_of_policy(policy.pk))
    return policy


def _notify_customers_of_policy(policy_id: int) -> None:
    policy = CreditPolicyVersion.objects.get(pk=policy_id)
    emails = set(Customer.objects.exclude(billing_email="").values_list("billing_email", flat=True))
    emails |= set(
        get_user_model()
        .objects.filter(customer_membership__isnull=False)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    subject = f"Our credit policy changes on {policy.effective_from:%-d %B %Y}"
    body = (
        f"Version {policy.number} of our credit policy takes effect on "
        f"{policy.effective_from:%-d %B %Y}.\n\nWhat changes: {policy.change_summary}\n\n"
        f"Read it, with worked examples, in the customer portal under Credit policy."
    )
    for email in sorted(emails):
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
    CreditPolicyVersion.objects.filter(pk=policy_id).update(customers_notified_at=timezone.now())


# Change requests and credits


def _may_request(actor, contract: Contract) -> None:
    role = role_of(actor)
    if role == Role.CUSTOMER:
        membership = getattr(actor, "customer_membership", None)
        if membership is None or membership.customer_id != contract.customer_id:
            raise ActionForbidden("You may request changes to your own contracts only.")
        return
    if role in (Role.ACCOUNT_MANAGER, Role.FINANCE_ANALYST, "admin"):
        return
    raise ActionForbidden("Your role may not request contract changes.")


@transaction.atomic
def change_request_create(
    *,
    actor,
    contract_id: int,
    intent: str,
    effective_date: date,
    lines: list[dict],
    form: str = CreditForm.CREDIT_NOTE,
    note: str = "",
) -> ChangeRequest:
    """Record the intent with its quote and policy frozen; open the credit's approval chain.

    `lines` name a contract line and what changes: `{"contract_line": id, "quantity_after":
    n, "units_used": n}`. Amounts and quantities come from the invoices and the ledger.
    """
    contract = Contract.objects.select_related("customer").get(pk=contract_id)
    _may_request(actor, contract)
    if contract.status not in (Contract.Status.ACTIVE, Contract.Status.SUSPENDED):
        raise DomainError(f"Contract {contract.number} is {contract.status}; nothing to change.")
    # Staff may record a change that already happened (within the term, checked below); a
    # customer asks from today on, so a request cannot reach back into a period already used.
    if role_of(actor) == Role.CUSTOMER and effective_date < timezone.localdate():
        raise DomainError("Choose today or a later day: a change cannot go back.")
    policy = credit_policy_in_force(on=effective_date)
    rules = policy_rules(policy)
    if intent not in rules.eligible_intents:
        raise DomainError(f"Policy {policy.label} gives no credit for a {intent}.")
    if form not in CreditForm.values:
        raise DomainError(f"'{form}' is not a credit form.")
    if form not in rules.allowed_forms:
        raise DomainError(f"Policy {policy.label} does not offer {CreditForm(form).label}.")
    if not lines:
        raise DomainError("Choose at least one contract line.")
    if not contract.term_start <= effective_date < contract.term_end:
        raise DomainError(
            f"The effective date must fall within the contract's term, "
            f"{contract.term_start:%-d %b %Y} to {contract.term_end:%-d %b %Y}."
        )
    _refuse_overlapping(contract, lines)
    # Lock the paid invoice lines so two overlapping requests cannot both spend one payment.
    inputs = quoting.contract_quote_inputs(
        contract=contract, intent=intent, effective_date=effective_date, changes=lines,
        lock=True,
    )  # fmt: skip
    priced = [quoting.price_line(spec, rules.engine) for spec in inputs.lines]
    result = quoting.total_quote(priced, rules.engine, contract.currency, intent)
    quote_data = _quote_dict(result, policy)
    change = ChangeRequest(
        contract=contract, customer=contract.customer, intent=intent,
        effective_date=effective_date, requested_by=actor, note=note, policy=policy,
        currency=contract.currency, quote=quote_data, total=result.total,
    )  # fmt: skip
    _stamp(change, actor=actor, reason=note or f"{intent} requested")
    change.save()
    for spec, line_quote in zip(inputs.lines, result.lines, strict=True):
        ChangeLine.objects.create(
            change=change, contract_line=spec.contract_line, invoice_line=spec.invoice_line,
            basis=spec.line.basis, quantity_before=spec.quantity_before,
            quantity_after=spec.quantity_after, units_used=spec.line.units_used,
            amount_paid=spec.line.amount_paid, credit=line_quote.credit,
            explanation=line_quote.explanation,
        )  # fmt: skip
    audit_record(actor=actor, action="change_request.create", object_type="credits.change",
                 object_id=change.pk, reason=note, policy_version=policy.label,
                 data={"contract": contract.pk, "intent": intent,
                       "effective_date": effective_date, "total": result.total})  # fmt: skip
    if result.total > 0:
        _open_credit(actor=actor, change=change, form=form, rules=rules)
    else:
        # Nothing to approve: the change itself is carried out now.
        _carry_out_change(change=change, form=None, reason=f"{intent} requested; no credit due")
    return change


def _refuse_overlapping(contract: Contract, lines: list[dict]) -> None:
    """One open change per contract line: a second would release the same seats twice.

    The lines are locked in primary-key order, so simultaneous requests queue here and the
    later one sees the earlier one's credit.
    """
    ids = sorted({line.get("contract_line") for line in lines if line.get("contract_line")})
    list(ContractLine.objects.select_for_update().filter(contract=contract, pk__in=ids)
         .order_by("pk"))  # fmt: skip
    open_credit = (
        Credit.objects.filter(
            change__lines__contract_line_id__in=ids,
            status__in=[Credit.Status.PENDING, Credit.Status.SENT_BACK, Credit.Status.APPROVED],
        )
        .order_by("pk")
        .first()
    )
    if open_credit is not None:
        raise DomainError(
            f"This line already has a change awaiting a decision (credit request "
            f"{open_credit.pk}); wait for it, or ask finance to send it back."
        )


def _open_credit(*, actor, change: ChangeRequest, form: str, rules) -> Credit:
    schedule = []
    if form == CreditForm.FUTURE_DISCOUNT:
        periods = rules.payout_periods if rules.payout_mode == "declining" else 1
        schedule = [str(a) for a in declining_schedule(change.total, periods, change.currency)]
    credit = Credit(
        change=change, customer=change.customer, contract=change.contract, amount=change.total,
        currency=change.currency, form=form, policy=change.policy, calculated_by=actor,
        schedule=schedule,
    )  # fmt: skip
    _stamp(credit, actor=actor, reason="Calculated")
    credit.save()
    now = timezone.now()
    for order, step in enumerate(rules.steps_for(change.total), start=1):
        ApprovalStep.objects.create(
            credit=credit, order=order, role=step.role, threshold=step.threshold,
            status=ApprovalStep.Status.PENDING if order == 1 else ApprovalStep.Status.WAITING,
            due_at=now + timedelta(hours=rules.step_deadline_hours) if order == 1 else None,
        )  # fmt: skip
    audit_record(actor=actor, action="credit.calculate", object_type="credits.credit",
                 object_id=credit.pk, policy_version=change.policy.label,
                 data={"amount": credit.amount, "currency": credit.currency, "form": form,
                       "steps": [s.role for s in rules.steps_for(change.total)]})  # fmt: skip
    return credit


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
    escalated_to = rules.escalate_to if step.escalated_at else None
    if role != "admin" and role not in (step.role, escalated_to):
        raise ActionForbidden(f"Step {step.order} needs a {Role(step.role).label.lower()}.")
    if actor.pk in (credit.change.requested_by_id, credit.calculated_by_id):
        raise ActionForbidden("Segregation of duties: you requested or calculated this credit.")
    if credit.steps.filter(decided_by=actor).exclude(status=ApprovalStep.Status.SENT_BACK).exists():
        raise ActionForbidden("Segregation of duties: you already decided a step of this credit.")


def credit_decision_refusal(*, actor, credit: Credit) -> str | None:
    """Why `actor` may not decide the credit's current step now, or None when they may.

    Read-only: pages use it to offer the decision only to those the services would accept.
    """
    try:
        step = _current_step(credit)
        _check_decider(actor, credit, step, policy_rules(credit.policy))
    except DomainError as refusal:
        return str(refusal)
    return None


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
        return credit
    credit.approve()
    _bump(credit, actor=actor, reason="Every step approved")
    return _issue(actor=actor, credit=credit)


def _next_number(year: int) -> str:
    sequence, _ = CreditNoteSequence.objects.get_or_create(year=year)
    sequence = CreditNoteSequence.objects.select_for_update().get(pk=sequence.pk)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return f"CN-{year}-{sequence.last_number:06d}"


def _issue(*, actor, credit: Credit) -> Credit:
    """Number the credit, post it to the account and apply its form; same transaction."""
    quoting.check_paid_ceiling(credit=credit)
    now = timezone.now()
    credit.issue()
    credit.number = _next_number(timezone.localdate().year)
    credit.issued_at = now
    _bump(credit, actor=actor, reason=f"Issued as {credit.number}")
    _apply_form(actor=actor, credit=credit)
    audit_record(actor=actor, action="credit.issue", object_type="credits.credit",
                 object_id=credit.pk, policy_version=credit.policy.label,
                 data={"number": credit.number, "amount": credit.amount,
                       "currency": credit.currency, "form": credit.form})  # fmt: skip
    credit_id = credit.pk
    transaction.on_commit(lambda: _tell_customer_issued(credit_id))
    return credit


def _apply_form(*, actor, credit: Credit) -> None:
    change = credit.change
    reason = f"{credit.number}: {change.get_intent_display().lower()} from {change.effective_date}"
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


def _tell_customer_issued(credit_id: int) -> None:
    credit = Credit.objects.select_related("customer").get(pk=credit_id)
    if credit.customer.billing_email:
        send_mail(
            f"Credit {credit.number} issued",
            f"We issued credit {credit.number} of {money_text(credit.amount, credit.currency)}. "
            f"The credit note, with the calculation line by line, is in the portal.",
            settings.DEFAULT_FROM_EMAIL,
            [credit.customer.billing_email],
        )


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
    return credit


@transaction.atomic
def credit_reject(*, actor, credit_id: int, reason: str, expected_version=None) -> Credit:
    reason = _reason(reason, "reject a credit")
    return _decide_against(actor=actor, credit_id=credit_id, reason=reason,
                           expected_version=expected_version, outcome="reject")  # fmt: skip


@transaction.atomic
def credit_send_back(*, actor, credit_id: int, reason: str, expected_version=None) -> Credit:
    reason = _reason(reason, "send a credit back")
    return _decide_against(actor=actor, credit_id=credit_id, reason=reason,
                           expected_version=expected_version, outcome="send_back")  # fmt: skip


@transaction.atomic
def credit_resubmit(*, actor, credit_id: int, reason: str, form: str | None = None) -> Credit:
    """The requester answers a send-back; approval starts again from the first step."""
    reason = _reason(reason, "resubmit a credit")
    credit = _lock_credit(credit_id, None)
    if actor.pk not in (credit.change.requested_by_id, credit.calculated_by_id):
        raise ActionForbidden("Only whoever requested the credit resubmits it.")
    if not can_proceed(credit.resubmit):
        raise TransitionNotAllowed(f"{credit} is {credit.get_status_display().lower()}.")
    rules = policy_rules(credit.policy)
    if form:
        if form not in rules.allowed_forms:
            raise DomainError(f"Policy {credit.policy.label} does not offer that form.")
        credit.form = form
    credit.resubmit()
    now = timezone.now()
    for step in credit.steps.order_by("order"):
        first = step.order == 1
        step.status = ApprovalStep.Status.PENDING if first else ApprovalStep.Status.WAITING
        step.due_at = now + timedelta(hours=rules.step_deadline_hours) if first else None
        # A new round: earlier decisions stay in the history, not in the way of deciding again.
        step.reminded_at = step.escalated_at = step.decided_by = step.decided_at = None
        step.reason = ""
        step.save(
            update_fields=["status", "due_at", "reminded_at", "escalated_at", "decided_by",
                           "decided_at", "reason"]
        )  # fmt: skip
    _bump(credit, actor=actor, reason=reason)
    audit_record(
        actor=actor,
        action="credit.resubmit",
        object_type="credits.credit",
        object_id=credit.pk,
        reason=reason,
        policy_version=credit.policy.label,
    )
    return credit


# Deadlines


def process_approval_deadlines(*, now=None) -> dict[str, int]:
    """Beat job: remind approvers of steps getting old, escalate overdue ones. Safe to rerun."""
    now = now or timezone.now()
    counts = {"reminded": 0, "escalated": 0}
    pending = ApprovalStep.objects.filter(status=ApprovalStep.Status.PENDING).select_related(
        "credit__policy"
    )
    for step in pending:
        rules = policy_rules(step.credit.policy)
        started = step.due_at - timedelta(hours=rules.step_deadline_hours)
        remind_at = started + timedelta(hours=rules.reminder_after_hours)
        if step.reminded_at is None and now >= remind_at and _claim(step, "reminded_at", now):
            _mail_role(step.role, f"Reminder: {step.credit} awaits your approval",
                       f"Step {step.order} is due {step.due_at:%Y-%m-%d %H:%M}.")  # fmt: skip
            counts["reminded"] += 1
        if step.escalated_at is None and now >= step.due_at and _claim(step, "escalated_at", now):
            _mail_role(rules.escalate_to, f"Escalated: {step.credit} is overdue",
                       f"Step {step.order} ({step.role}) passed its deadline; you may "
                       f"decide it.")  # fmt: skip
            audit_record(actor=licensing_services.system_actor(), action="credit.escalate",
                         object_type="credits.credit", object_id=step.credit_id,
                         policy_version=step.credit.policy.label,
                         data={"step": step.order, "to": rules.escalate_to})  # fmt: skip
            counts["escalated"] += 1
    return counts


def _claim(step: ApprovalStep, field: str, now) -> bool:
    # A conditional update claims the work, so a duplicate run sends nothing twice.
    return bool(
        ApprovalStep.objects.filter(pk=step.pk, **{f"{field}__isnull": True}).update(**{field: now})
    )


def _mail_role(role: str, subject: str, body: str) -> None:
    emails = list(
        get_user_model()
        .objects.filter(groups__name=role, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if emails:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, emails)


# Disputes


@transaction.atomic
def dispute_open(*, actor, credit_id: int, reason: str, attachment=None) -> Dispute:
    reason = _reason(reason, "dispute a credit")
    # Locked, so two simultaneous disputes of one credit cannot both open.
    credit = (
        Credit.objects.select_for_update(of=("self",)).select_related("policy").get(pk=credit_id)
    )
    membership = getattr(actor, "customer_membership", None)
    if membership is None or membership.customer_id != credit.customer_id:
        raise ActionForbidden("Only the customer's own users dispute a credit.")
    if credit.status != Credit.Status.ISSUED:
        raise TransitionNotAllowed("Only an issued credit can be disputed.")
    if credit.disputes.filter(status=Dispute.Status.OPEN).exists():
        raise DomainError("This credit already has an open dispute.")
    rules = policy_rules(credit.policy)
    dispute = Dispute(
        credit=credit, raised_by=actor, reason=reason, attachment=attachment or "",
        due_on=timezone.localdate() + timedelta(days=rules.dispute_days),
    )  # fmt: skip
    _stamp(dispute, actor=actor, reason=reason)
    dispute.save()
    audit_record(actor=actor, action="dispute.open", object_type="credits.dispute",
                 object_id=dispute.pk, reason=reason, policy_version=credit.policy.label,
                 data={"credit": credit.pk, "due_on": dispute.due_on})  # fmt: skip
    transaction.on_commit(
        lambda: _mail_role(Role.FINANCE_ANALYST, f"Dispute of {credit.number}",
                           f"{actor.get_username()} disputes {credit.number}: {reason}")
    )  # fmt: skip
    return dispute


@transaction.atomic
def dispute_resolve(*, actor, dispute_id: int, upheld: bool, resolution: str) -> Dispute:
    resolution = _reason(resolution, "resolve a dispute")
    if role_of(actor) not in FINANCE | {"admin"}:
        raise ActionForbidden("Finance resolves disputes.")
    dispute = Dispute.objects.select_for_update().select_related("credit").get(pk=dispute_id)
    if dispute.status != Dispute.Status.OPEN:
        raise TransitionNotAllowed(
            f"The dispute is already {dispute.get_status_display().lower()}."
        )
    dispute.status = Dispute.Status.UPHELD if upheld else Dispute.Status.DISMISSED
    dispute.resolution, dispute.resolved_by, dispute.resolved_at = (
        resolution, actor, timezone.now(),
    )  # fmt: skip
    _stamp(dispute, actor=actor, reason=resolution)
    dispute.save()
    audit_record(actor=actor, action=f"dispute.{dispute.status}", object_type="credits.dispute",
                 object_id=dispute.pk, reason=resolution,
                 policy_version=dispute.credit.policy.label)  # fmt: skip
    return dispute


def _carry_out_change(*, change: ChangeRequest, form: str | None, reason: str) -> None:
    """Carry out the change the customer asked for, and the credit form's effect, through the
    licensing services (so the ledger, history and audit chain record it)."""
    system = licensing_services.system_actor()
    for change_line in change.lines.select_related("contract_line"):
        entitlements = list(
            Entitlement.objects.filter(contract_line=change_line.contract_line)
            .exclude(state__in=[Entitlement.State.REVOKED, Entitlement.State.EXPIRED])
            .order_by("pk")
        )
        seat_pools = [e for e in entitlements if e.kind == Entitlement.Kind.SEAT_POOL]
        if change.intent == "downgrade" and change_line.quantity_after:
            licensing_services.contract_line_change_quantity(
                actor=system, contract_line_id=change_line.contract_line_id,
                quantity=change_line.quantity_after, reason=reason,
            )  # fmt: skip
        if change.intent == "downgrade" and change_line.quantity_after is not None:
            for pool in seat_pools[:1]:
                licensing_services.entitlement_change_quantity(
                    actor=system, entitlement_id=pool.pk, quantity=change_line.quantity_after,
                    reason=reason, effective_date=max(change.effective_date, _last(pool)),
                )  # fmt: skip
        elif change.intent in ("pause", "terminate"):
            transition = "suspend" if change.intent == "pause" else "start_grace"
            for entitlement in entitlements:
                if entitlement.state in (Entitlement.State.ACTIVE, Entitlement.State.RESTORED):
                    licensing_services.entitlement_transition(
                        actor=system, entitlement_id=entitlement.pk, transition=transition,
                        reason=reason,
                    )  # fmt: skip
        if form == CreditForm.SERVICE_EXTENSION and change_line.credit > 0:
            days = _equivalent_days(change_line)
            for entitlement in entitlements:
                if days:
                    licensing_services.entitlement_extend(
                        actor=system, entitlement_id=entitlement.pk, days=days, reason=reason
                    )


def _last(entitlement: Entitlement) -> date:
    last = entitlement.ledger.order_by("-effective_date").values_list("effective_date", flat=True)
    return last.first() or entitlement.starts_on


def _equivalent_days(change_line: ChangeLine) -> int:
    """Days of service the credit buys at the line's daily price for what remains."""
    line = change_line.contract_line
    remaining = change_line.quantity_after if change_line.quantity_after else line.quantity
    months = {"monthly": 1, "quarterly": 3, "annual": 12}[line.plan.billing_cycle]
    daily = line.unit_price * remaining * 12 / months / 365
    if daily <= 0:
        return 0
    return int(change_line.credit / daily)
