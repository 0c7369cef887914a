"""Change requests: the quote frozen, the credit opened, the change carried out."""

from datetime import date, timedelta
from functools import partial

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from licensing import services as licensing_services
from licensing.errors import ActionForbidden, DomainError
from licensing.models import Contract, ContractLine, Entitlement
from licensing.pricing.calendar import CYCLE_MONTHS
from licensing.roles import ADMIN, Role, role_of

from .. import mail, quoting
from ..engine import declining_schedule
from ..models import (
    ApprovalStep,
    ChangeLine,
    ChangeRequest,
    Credit,
    CreditForm,
    Intent,
)
from ..selectors import credit_policy_in_force, policy_rules
from ._common import _refusal, _stamp
from .calculator import _quote_dict
from .exchange import convert
from .forms import check_credit_form
from .scheduled import change_source

# Customers ask for themselves; account managers and analysts ask on a customer's behalf.
REQUESTER_ROLES = frozenset({Role.CUSTOMER, Role.ACCOUNT_MANAGER, Role.FINANCE_ANALYST, ADMIN})
# Only a running contract can be downgraded, paused or ended: a suspended one is on hold, and
# what it holds is not in use to be given back.
CHANGEABLE_STATUSES = frozenset({Contract.Status.ACTIVE})
BACKDATE_REFUSAL = "Choose today or a later day: a change cannot go back."


def _check_requester(actor, contract: Contract | None) -> None:
    role = role_of(actor)
    if role not in REQUESTER_ROLES:
        raise ActionForbidden("Your role may not request contract changes.")
    if contract is None:
        return
    if role == Role.CUSTOMER:
        membership = getattr(actor, "customer_membership", None)
        if membership is None or membership.customer_id != contract.customer_id:
            raise ActionForbidden("You may request changes to your own contracts only.")
    if contract.status not in CHANGEABLE_STATUSES:
        raise DomainError(
            f"Contract {contract.number} is {contract.get_status_display().lower()}: only an "
            f"active contract can be changed."
        )


def change_request_refusal(*, actor, contract: Contract | None = None) -> str | None:
    """Why `actor` may not ask for a change to `contract`, or None when they may.

    Without a contract: whether their role may ask for changes at all. Read-only: pages and
    serializers ask it before they offer the request; `change_request_create` enforces it.
    """
    return _refusal(_check_requester, actor, contract)


def may_backdate(actor) -> bool:
    """Staff may record a change that already happened (within the term); a customer asks from
    today on, so a request cannot reach back into a period already used."""
    return role_of(actor) != Role.CUSTOMER


def change_date_refusal(*, actor, effective_date: date, today: date) -> str | None:
    """Why `actor` may not ask for a change effective on `effective_date`, or None."""
    if effective_date < today and not may_backdate(actor):
        return BACKDATE_REFUSAL
    return None


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
    on: date,
    deferred_to: int | None = None,
    resume_date: date | None = None,
) -> ChangeRequest:
    """Record the intent with its quote and policy frozen; open the credit's approval chain.

    `on` is today, read once by the caller: a customer's change may not take effect before it.

    `lines` name a contract line and what changes: `{"contract_line": id, "quantity_after":
    n, "units_used": n, "plan_after": plan id}`. Amounts and quantities come from the invoices
    and the ledger. A deferral names the line that receives the value (`deferred_to`); a move
    to a smaller plan names each line's lower plan (`plan_after`).
    """
    contract = Contract.objects.select_related("customer").get(pk=contract_id)
    _check_requester(actor, contract)
    refusal = change_date_refusal(actor=actor, effective_date=effective_date, today=on)
    if refusal:
        raise DomainError(refusal, field="effective_date")
    policy = credit_policy_in_force(on=effective_date)
    rules = policy_rules(policy)
    if intent not in rules.eligible_intents:
        what = Intent(intent).label.lower() if intent in Intent.values else f"'{intent}'"
        raise DomainError(f"{policy.name} gives no credit for a {what}.", field="intent")
    if form not in CreditForm.values:
        raise DomainError(f"'{form}' is not a credit form.")
    if form not in rules.allowed_forms:
        raise DomainError(f"{policy.name} does not offer {CreditForm(form).label}.")
    if not lines:
        raise DomainError("Choose at least one contract line.")
    if intent == "pause" and (resume_date is None or resume_date <= effective_date):
        raise DomainError(
            "Say when the pause ends: the first day back, after the pause begins.",
            field="resume_date",
        )
    if intent != "pause":
        resume_date = None
    if not contract.term_start <= effective_date < contract.term_end:
        raise DomainError(
            f"The effective date must fall within the contract's term, "
            f"{contract.term_start:%-d %b %Y} to {contract.term_end:%-d %b %Y}."
        )
    _refuse_overlapping(contract, lines)
    named = {line.get("contract_line") for line in lines}
    changed_lines = list(contract.lines.select_related("plan").filter(pk__in=named))
    target = check_credit_form(
        form=form, contract=contract, intent=intent, effective_date=effective_date,
        contract_lines=changed_lines, deferred_to=deferred_to,
        plans_after={line.get("contract_line"): line.get("plan_after") for line in lines},
    )  # fmt: skip
    # Lock the paid invoice lines so two overlapping requests cannot both spend one payment.
    inputs = quoting.contract_quote_inputs(
        contract=contract, intent=intent, effective_date=effective_date, changes=lines,
        lock=True, resume_date=resume_date,
    )  # fmt: skip
    priced = [quoting.price_line(spec, rules.engine) for spec in inputs.lines]
    result = quoting.total_quote(priced, rules.engine, contract.currency, intent)
    quote_data = _quote_dict(result, policy)
    change = ChangeRequest(
        contract=contract, customer=contract.customer, intent=intent,
        effective_date=effective_date, resume_date=resume_date, requested_by=actor, note=note,
        policy=policy,
        currency=contract.currency, quote=quote_data, total=result.total,
    )  # fmt: skip
    _stamp(change, actor=actor, reason=note or f"{Intent(intent).label} requested")
    change.save()
    plans_after = {line.get("contract_line"): line.get("plan_after") for line in lines}
    for spec, line_quote in zip(inputs.lines, result.lines, strict=True):
        ChangeLine.objects.create(
            plan_after_id=plans_after.get(spec.contract_line.pk),
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
        _open_credit(actor=actor, change=change, form=form, rules=rules, deferred_to=target)
    else:
        # Nothing to approve: the change itself is carried out now.
        _carry_out_change(change=change, form=None,
                          reason=f"{Intent(intent).label} requested; no credit due")  # fmt: skip
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


def _open_credit(
    *,
    actor,
    change: ChangeRequest,
    form: str,
    rules,
    deferred_to=None,
    corrects: Credit | None = None,
) -> Credit:
    """The credit and its approval chain. The thresholds are in the policy's base currency: the
    amount is converted at finance's rate of the request date, and the conversion is kept."""
    conversion = convert(
        amount=change.total, currency=change.currency, base=rules.base_currency,
        on=timezone.localdate(change.requested_at),
    )  # fmt: skip
    schedule = []
    if form == CreditForm.FUTURE_DISCOUNT:
        periods = rules.payout_periods if rules.payout_mode == "declining" else 1
        schedule = [str(a) for a in declining_schedule(change.total, periods, change.currency)]
    credit = Credit(
        change=change, customer=change.customer, contract=change.contract, amount=change.total,
        currency=change.currency, form=form, policy=change.policy, calculated_by=actor,
        schedule=schedule, deferred_to=deferred_to,
        base_currency=conversion.currency, base_amount=conversion.amount,
        exchange_rate=conversion.rate, rate_date=conversion.rate_date, corrects=corrects,
    )  # fmt: skip
    _stamp(credit, actor=actor, reason="Calculated")
    credit.save()
    now = timezone.now()
    steps = rules.steps_for(conversion.amount)
    for order, step in enumerate(steps, start=1):
        ApprovalStep.objects.create(
            credit=credit, order=order, role=step.role, threshold=step.threshold,
            status=ApprovalStep.Status.PENDING if order == 1 else ApprovalStep.Status.WAITING,
            due_at=now + timedelta(hours=rules.step_deadline_hours) if order == 1 else None,
        )  # fmt: skip
    first = credit.steps.filter(order=1).first()
    if first is not None:
        mail.tell_approvers(first)
    audit_record(actor=actor, action="credit.calculate", object_type="credits.credit",
                 object_id=credit.pk, policy_version=change.policy.label,
                 data={"amount": credit.amount, "currency": credit.currency, "form": form,
                       "base_amount": conversion.amount, "base_currency": conversion.currency,
                       "rate": conversion.rate, "rate_date": conversion.rate_date,
                       "steps": [s.role for s in steps]})  # fmt: skip
    return credit


def _carry_out_change(*, change: ChangeRequest, form: str | None, reason: str) -> None:
    """Carry out the change the customer asked for, and the credit form's effect, through the
    licensing services (so the ledger, history and audit chain record it).

    The change itself is scheduled for its effective date: dated today or earlier it applies
    at once (a back-dated one on its own date); dated later, nothing changes until then.
    """
    system = licensing_services.system_actor()
    today = timezone.localdate()
    credit = getattr(change, "credit", None)
    label = f"Credit {credit.number}" if credit and credit.number else f"{change}"
    schedule = partial(
        licensing_services.change_schedule, actor=system, reason=reason, on=today,
        source=change_source(change.pk), source_label=label,
    )  # fmt: skip
    for change_line in change.lines.select_related("contract_line__plan"):
        entitlements = list(
            Entitlement.objects.filter(contract_line=change_line.contract_line)
            .exclude(state__in=[Entitlement.State.REVOKED, Entitlement.State.EXPIRED])
            .order_by("pk")
        )
        seat_pools = [e for e in entitlements if e.kind == Entitlement.Kind.SEAT_POOL]
        after = change_line.quantity_after
        if change.intent == "downgrade" and after:
            schedule(kind="quantity", contract_line_id=change_line.contract_line_id,
                     quantity_after=after, effective_date=change.effective_date)  # fmt: skip
        if change.intent == "downgrade" and after is not None:
            for pool in seat_pools[:1]:
                schedule(kind="quantity", entitlement_id=pool.pk, quantity_after=after,
                         effective_date=change.effective_date)  # fmt: skip
        elif change.intent in ("pause", "terminate"):
            transition = "suspend" if change.intent == "pause" else "start_grace"
            for entitlement in entitlements:
                if entitlement.state in (Entitlement.State.ACTIVE, Entitlement.State.RESTORED):
                    schedule(kind=transition, entitlement_id=entitlement.pk,
                             effective_date=change.effective_date)  # fmt: skip
                    if change.intent == "pause" and change.resume_date:
                        schedule(kind="resume", entitlement_id=entitlement.pk,
                                 effective_date=change.resume_date)  # fmt: skip
        days = _equivalent_days(change_line) if form == CreditForm.SERVICE_EXTENSION else 0
        for entitlement in entitlements if days else []:
            licensing_services.entitlement_extend(
                actor=system, entitlement_id=entitlement.pk, days=days, reason=reason
            )
        if form == CreditForm.PLAN_CHANGE and change_line.plan_after_id:
            # The line moves on the change's date, like its seats: billed at the old plan until.
            schedule(kind="plan", contract_line_id=change_line.contract_line_id,
                     plan_id=change_line.plan_after_id,
                     effective_date=change.effective_date)  # fmt: skip


def _equivalent_days(change_line: ChangeLine) -> int:
    """Days of service the credit buys at the line's daily price for what remains."""
    line = change_line.contract_line
    remaining = change_line.quantity_after if change_line.quantity_after else line.quantity
    months = CYCLE_MONTHS[line.plan.billing_cycle]
    daily = line.unit_price * remaining * 12 / months / 365
    if daily <= 0:
        return 0
    return int(change_line.credit / daily)
