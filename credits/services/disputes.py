"""Disputes of issued credits: a case for finance with a deadline, and its outcome.

Finance upholds a dispute with a corrective credit (the engine prices the corrected inputs; the
difference goes through the same approval chain) or by reversing the credit, or rejects it with
a reason. The customer is told by e-mail and on the credit's portal page.
"""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from audit.services import audit_record
from licensing import services as licensing_services
from licensing.errors import ActionForbidden, DomainError, TransitionNotAllowed
from licensing.pricing.wording import money_text
from licensing.roles import ADMIN, FINANCE_ROLES, Role, role_of

from .. import mail, quoting
from ..models import AccountEntry, ChangeLine, ChangeRequest, Credit, Dispute
from ..selectors import policy_rules
from ._common import _mail_role, _reason, _refusal, _stamp, role_label
from .calculator import _quote_dict
from .changes import _open_credit, _refuse_overlapping
from .scheduled import call_off_change, reversal_refusal

# Finance answers disputes (each finance role holds credits.change_dispute for the admin).
RESOLVER_ROLES = FINANCE_ROLES | {ADMIN}
# Finance is reminded this many days before a dispute is due; the day after, it is escalated.
REMIND_DAYS_BEFORE = 2


def _check_disputer(actor, credit: Credit) -> None:
    membership = getattr(actor, "customer_membership", None)
    if membership is None or membership.customer_id != credit.customer_id:
        raise ActionForbidden("Only the customer's own users dispute a credit.")
    if credit.status != Credit.Status.ISSUED:
        raise TransitionNotAllowed("Only an issued credit can be disputed.")
    # In Python, not a query: pages hand in a credit with its disputes prefetched.
    if any(d.status == Dispute.Status.OPEN for d in credit.disputes.all()):
        raise DomainError("This credit already has an open dispute.")


def dispute_open_refusal(*, actor, credit: Credit) -> str | None:
    """Why `actor` may not dispute `credit` now, or None when they may."""
    return _refusal(_check_disputer, actor, credit)


def _check_resolver(actor, dispute: Dispute) -> None:
    if role_of(actor) not in RESOLVER_ROLES:
        raise ActionForbidden("Finance resolves disputes.")
    if dispute.status != Dispute.Status.OPEN:
        raise TransitionNotAllowed(
            f"The dispute is already {dispute.get_status_display().lower()}."
        )


def dispute_resolve_refusal(*, actor, dispute: Dispute) -> str | None:
    """Why `actor` may not resolve `dispute` now, or None when they may."""
    return _refusal(_check_resolver, actor, dispute)


def _check_upholder(actor, dispute: Dispute, outcome: str) -> None:
    _check_resolver(actor, dispute)
    if outcome not in Dispute.Outcome.values:
        raise DomainError("Uphold with a corrective credit or a reversal.", field="outcome")
    if not can_proceed(dispute.credit.reverse):
        raise TransitionNotAllowed(
            f"{dispute.credit} is {dispute.credit.get_status_display().lower()}."
        )
    if outcome == Dispute.Outcome.REVERSAL:
        refusal = reversal_refusal(dispute.credit)
        if refusal:
            raise DomainError(refusal, field="outcome")


def dispute_uphold_refusal(*, actor, dispute: Dispute, outcome: str) -> str | None:
    """Why `actor` may not uphold `dispute` with `outcome` now, or None when they may."""
    return _refusal(_check_upholder, actor, dispute, outcome)


def dispute_reject_refusal(*, actor, dispute: Dispute) -> str | None:
    """Why `actor` may not reject `dispute` now, or None when they may."""
    return _refusal(_check_resolver, actor, dispute)


@transaction.atomic
def dispute_open(*, actor, credit_id: int, reason: str, attachment=None, on: date) -> Dispute:
    """Open a dispute of a credit, due `dispute_days` after `on` (today, read by the caller)."""
    reason = _reason(reason, "dispute a credit")
    # Locked, so two simultaneous disputes of one credit cannot both open.
    credit = (
        Credit.objects.select_for_update(of=("self",)).select_related("policy").get(pk=credit_id)
    )
    _check_disputer(actor, credit)
    rules = policy_rules(credit.policy)
    dispute = Dispute(
        credit=credit, raised_by=actor, reason=reason, attachment=attachment or "",
        due_on=on + timedelta(days=rules.dispute_days),
    )  # fmt: skip
    _stamp(dispute, actor=actor, reason=reason)
    dispute.save()
    audit_record(actor=actor, action="dispute.open", object_type="credits.dispute",
                 object_id=dispute.pk, reason=reason, policy_version=credit.policy.label,
                 data={"credit": credit.pk, "due_on": dispute.due_on})  # fmt: skip
    _mail_role(Role.FINANCE_ANALYST, kind="dispute.open", subject=f"Dispute of {credit.number}",
               body=f"{actor.get_username()} disputes {credit.number}: {reason}")  # fmt: skip
    return dispute


def _lock_dispute(dispute_id: int) -> Dispute:
    dispute = Dispute.objects.select_for_update(of=("self",)).get(pk=dispute_id)
    # The credit is locked too: a reversal or a correction changes what it stands for.
    dispute.credit = (
        Credit.objects.select_for_update(of=("self",))
        .select_related("change", "policy", "customer", "contract")
        .get(pk=dispute.credit_id)
    )
    return dispute


def _close(dispute: Dispute, *, actor, status: str, outcome: str, resolution: str) -> None:
    dispute.status, dispute.outcome = status, outcome
    dispute.resolution, dispute.resolved_by, dispute.resolved_at = (
        resolution, actor, timezone.now(),
    )  # fmt: skip
    _stamp(dispute, actor=actor, reason=resolution)
    dispute.save()
    audit_record(actor=actor, action=f"dispute.{dispute.status}", object_type="credits.dispute",
                 object_id=dispute.pk, reason=resolution,
                 policy_version=dispute.credit.policy.label,
                 data={"outcome": outcome,
                       "corrective_credit": dispute.corrective_credit_id})  # fmt: skip
    mail.tell_customer_dispute_resolved(dispute)


@transaction.atomic
def dispute_uphold(
    *,
    actor,
    dispute_id: int,
    resolution: str,
    outcome: str,
    corrections: list[dict] | None = None,
    on: date | None = None,
) -> Dispute:
    """The customer is right. `correction`: the engine prices the credit again from the
    corrected inputs (`corrections`, per contract line) and the difference opens a corrective
    credit through the approval chain. `reversal`: the credit is taken back off the account and
    its change is called off, which is possible only while none of it has taken effect on `on`
    (today, read by the caller; see `scheduled.py`)."""
    on = on or timezone.localdate()
    resolution = _reason(resolution, "uphold a dispute")
    dispute = _lock_dispute(dispute_id)
    _check_upholder(actor, dispute, outcome)
    if outcome == Dispute.Outcome.REVERSAL:
        _reverse(actor=actor, credit=dispute.credit, reason=resolution, on=on)
    else:
        dispute.corrective_credit = _correct(
            actor=actor, credit=dispute.credit, corrections=corrections or [], reason=resolution
        )
    _close(dispute, actor=actor, status=Dispute.Status.UPHELD, outcome=outcome,
           resolution=resolution)  # fmt: skip
    return dispute


@transaction.atomic
def dispute_reject(*, actor, dispute_id: int, reason: str) -> Dispute:
    """The credit stands; the customer reads why."""
    reason = _reason(reason, "reject a dispute")
    dispute = _lock_dispute(dispute_id)
    _check_resolver(actor, dispute)
    _close(dispute, actor=actor, status=Dispute.Status.DISMISSED, outcome="", resolution=reason)
    return dispute


def _reverse(*, actor, credit: Credit, reason: str, on: date) -> None:
    credit.reverse()
    credit.reversed_at = timezone.now()
    credit.version += 1
    _stamp(credit, actor=actor, reason=f"Reversed: {reason}")
    credit.save()
    posted = credit.account_entries.order_by("pk").first()
    AccountEntry.objects.create(
        customer=credit.customer, credit=credit,
        kind=posted.kind if posted else AccountEntry.Kind.CREDIT_NOTE,
        amount=-credit.amount, currency=credit.currency,
        description=f"Reversal of {credit.number}: {reason}",
    )  # fmt: skip
    called_off = call_off_change(credit=credit, reason=reason, on=on)
    audit_record(actor=actor, action="credit.reverse", object_type="credits.credit",
                 object_id=credit.pk, reason=reason, policy_version=credit.policy.label,
                 data={"number": credit.number, "amount": credit.amount,
                       "currency": credit.currency,
                       "called_off": [part.pk for part in called_off]})  # fmt: skip


def _correct(*, actor, credit: Credit, corrections: list[dict], reason: str) -> Credit:
    if not corrections:
        raise DomainError("Give the corrected inputs of at least one line.", field="corrections")
    original = credit.change
    _refuse_overlapping(credit.contract, corrections)
    inputs = quoting.corrected_quote_inputs(credit=credit, corrections=corrections)
    rules = policy_rules(credit.policy)
    priced = [quoting.price_line(spec, rules.engine) for spec in inputs.lines]
    result = quoting.total_quote(priced, rules.engine, credit.currency, original.intent)
    difference = result.total - credit.amount
    if difference <= 0:
        raise DomainError(
            f"The corrected inputs give {money_text(result.total, credit.currency)}, no more than "
            f"the {money_text(credit.amount, credit.currency)} of {credit.number}: reverse the "
            f"credit or reject the dispute instead.",
            field="corrections",
        )
    quote_data = _quote_dict(result, credit.policy)
    quote_data["notes"].append(
        f"Corrects {credit.number}: {money_text(result.total, credit.currency)} corrected, less "
        f"{money_text(credit.amount, credit.currency)} already credited."
    )
    change = ChangeRequest(
        contract=credit.contract, customer=credit.customer, intent=original.intent,
        effective_date=original.effective_date, requested_by=actor, policy=credit.policy,
        note=f"Correction of {credit.number} after a dispute: {reason}",
        currency=credit.currency, quote=quote_data, total=difference,
    )  # fmt: skip
    _stamp(change, actor=actor, reason=change.note)
    change.save()
    earlier = {line.contract_line_id: line for line in original.lines.all()}
    for spec, line_quote in zip(inputs.lines, result.lines, strict=True):
        before = earlier[spec.contract_line.pk]
        ChangeLine.objects.create(
            change=change, contract_line=spec.contract_line, invoice_line=spec.invoice_line,
            basis=spec.line.basis, quantity_before=spec.quantity_before,
            quantity_after=spec.quantity_after, units_used=spec.line.units_used,
            amount_paid=spec.line.amount_paid, credit=line_quote.credit - before.credit,
            explanation=f"{line_quote.explanation} Less "
            f"{money_text(before.credit, credit.currency)} credited on {credit.number}.",
        )  # fmt: skip
    audit_record(actor=actor, action="change_request.create", object_type="credits.change",
                 object_id=change.pk, reason=change.note, policy_version=credit.policy.label,
                 data={"contract": credit.contract_id, "intent": original.intent,
                       "corrects": credit.pk, "total": difference})  # fmt: skip
    return _open_credit(actor=actor, change=change, form=credit.form, rules=rules, corrects=credit)


# Deadlines


def process_dispute_deadlines(*, today=None, now=None) -> dict[str, int]:
    """Beat job: remind finance of disputes coming due, escalate overdue ones. Safe to rerun.

    Each reminder and escalation is its own transaction with its stamp, audit event and mail.
    """
    today = today or timezone.localdate()
    now = now or timezone.now()
    counts = {"reminded": 0, "escalated": 0}
    system = licensing_services.system_actor()
    open_disputes = Dispute.objects.filter(status=Dispute.Status.OPEN).order_by("due_on", "pk")
    for dispute_id, due_on in open_disputes.values_list("pk", "due_on"):
        if today >= due_on - timedelta(days=REMIND_DAYS_BEFORE) and _remind_dispute(
            dispute_id, now, actor=system
        ):
            counts["reminded"] += 1
        if today > due_on and _escalate_dispute(dispute_id, now, actor=system):
            counts["escalated"] += 1
    return counts


def _claim_dispute(dispute_id: int, field: str) -> Dispute | None:
    return (
        Dispute.objects.select_for_update(of=("self",))
        .select_related("credit__policy", "credit__customer", "credit__contract", "credit__change")
        .filter(pk=dispute_id, status=Dispute.Status.OPEN, **{f"{field}__isnull": True})
        .first()
    )


@transaction.atomic
def _remind_dispute(dispute_id: int, now, *, actor) -> bool:
    dispute = _claim_dispute(dispute_id, "reminded_at")
    if dispute is None:
        return False
    dispute.reminded_at = now
    _stamp(dispute, actor=actor, reason="Finance reminded")
    dispute.save(update_fields=["reminded_at"])
    mail.tell_dispute_overdue(dispute)
    return True


@transaction.atomic
def _escalate_dispute(dispute_id: int, now, *, actor) -> bool:
    dispute = _claim_dispute(dispute_id, "escalated_at")
    if dispute is None:
        return False
    escalate_to = policy_rules(dispute.credit.policy).escalate_to
    dispute.escalated_at = now
    _stamp(dispute, actor=actor, reason=f"Overdue: escalated to the {role_label(escalate_to)}")
    dispute.save(update_fields=["escalated_at"])
    audit_record(actor=actor, action="dispute.escalate", object_type="credits.dispute",
                 object_id=dispute.pk, policy_version=dispute.credit.policy.label,
                 data={"due_on": dispute.due_on, "to": escalate_to})  # fmt: skip
    mail.tell_dispute_overdue(dispute, escalate_to=escalate_to)
    return True
