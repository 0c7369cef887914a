"""Remediation options: priced from the contract line when a case is confirmed; a manager may
adjust or drop them, and include or waive earlier periods, until the offer is made."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from licensing.errors import DomainError, TransitionNotAllowed
from licensing.models import ContractLine, InvoiceLine, Plan
from licensing.money import round_money
from licensing.pricing.arithmetic import ZERO
from licensing.pricing.calendar import CYCLE_MONTHS, add_months, billing_period
from licensing.pricing.wording import money_text

from .. import pricing
from ..models import BreachCase, CaseEvent, EarlierOveruse, RemediationOption
from ..policy import breach_rules
from ._common import audit, event, locked_case, require_manager, require_reason, stamp

TIER_ORDER = [tier for tier, _ in Plan.Tier.choices]
K = RemediationOption.Kind


def pricing_refusal(case: BreachCase) -> str | None:
    """Why the case cannot be priced (and so cannot be confirmed), or None."""
    if case.entitlement.contract_line_id is None:
        return (
            "The entitlement names no contract line to price the over-use from; set its "
            "contract line first."
        )
    return None


def amount_for_period(line: ContractLine, start: date) -> tuple[Decimal, str]:
    """What the line's paid invoice for the period holds, else its price for the period."""
    paid = (
        InvoiceLine.objects.filter(
            contract_line=line, invoice__period_start__lte=start, invoice__period_end__gt=start,
            invoice__paid_on__isnull=False,
        )
        .select_related("invoice")
        .order_by("-invoice__period_start", "pk")
        .first()
    )  # fmt: skip
    if paid is not None:
        return paid.amount, f"paid invoice {paid.invoice.number}"
    price = money_text(line.unit_price, line.contract.currency)
    return line.unit_price * line.quantity, f"no paid invoice: {line.quantity:,} × {price}"


def next_tier(plan: Plan) -> Plan | None:
    """The next higher tier of the same product and currency, where one exists."""
    if plan.product_id is None or plan.tier not in TIER_ORDER:
        return None
    higher = TIER_ORDER[TIER_ORDER.index(plan.tier) + 1 :]
    candidates = Plan.objects.filter(
        product_id=plan.product_id, currency=plan.currency, tier__in=higher
    )
    return min(
        candidates,
        key=lambda p: (
            TIER_ORDER.index(p.tier),
            p.billing_cycle != plan.billing_cycle,
            p.unit_price,
            p.pk,
        ),  # fmt: skip
        default=None,
    )


def period_holding(line: ContractLine, day: date) -> tuple[date, date]:
    """The billing period [start, end) holding `day`; before billing began (an entitlement may
    start before its line's billing anchor), periods are counted back from the anchor."""
    anchor, cycle = line.contract.billing_anchor, line.plan.billing_cycle
    if day >= anchor:
        return billing_period(anchor, cycle, day)
    months = CYCLE_MONTHS[cycle]
    steps = 1
    while add_months(anchor, -steps * months) > day:
        steps += 1
    return add_months(anchor, -steps * months), add_months(anchor, -(steps - 1) * months)


def _over_days(case: BreachCase) -> list[tuple[date, int]]:
    days = {}
    for run in case.evidence.get("runs", []):
        if run["metric"] == case.metric:
            for d in run["daily"]:
                days[date.fromisoformat(d["day"])] = d["quantity"]
    return sorted(days.items())


def _current_period(case: BreachCase, line: ContractLine, on: date) -> tuple[date, date]:
    entitlement = case.entitlement
    day = min(max(on, entitlement.starts_on), entitlement.ends_on - timedelta(days=1))
    return period_holding(line, day)


def options_price(case: BreachCase, *, actor, on: date, reason: str) -> list[RemediationOption]:
    """Price every option for a confirmed case (inside the confirming service's transaction):
    true-up always, upgrade where a higher tier exists, grace extension, reduction plan, and
    earlier periods' over-use listed for the manager to include or waive."""
    entitlement = case.entitlement
    line = ContractLine.objects.select_related("plan", "contract").get(
        pk=entitlement.contract_line_id
    )
    currency, unit = line.contract.currency, entitlement.unit
    quantity = case.evidence.get("quantity", entitlement.quantity)
    rules = breach_rules(case.policy).for_classification(case.classification)
    over_days = _over_days(case)
    start, end = _current_period(case, line, on)
    amount_paid, source = amount_for_period(line, start)
    current = pricing.price_period(
        currency=currency, start=start, end=end, amount_paid=amount_paid, amount_source=source,
        quantity=quantity, over_days=over_days,
    )  # fmt: skip

    earlier = []
    seen = set()
    for day, _ in over_days:
        if day >= start or day < entitlement.starts_on:
            continue
        period = period_holding(line, day)
        if period in seen:
            continue
        seen.add(period)
        paid, why = amount_for_period(line, period[0])
        priced = pricing.price_period(
            currency=currency, start=period[0], end=period[1], amount_paid=paid,
            amount_source=why, quantity=quantity, over_days=over_days,
        )  # fmt: skip
        item = EarlierOveruse(
            case=case, period_start=priced.start, period_end=priced.end,
            first_day_over=priced.overuse_start, quantity=quantity, peak=priced.peak,
            amount_paid=paid, amount=priced.charge, currency=currency,
            explanation=priced.explanation,
        )  # fmt: skip
        stamp(item, actor=actor, reason=reason)
        item.save()
        earlier.append(item)

    offers = [pricing.true_up_option(current, currency=currency, unit=unit)]
    bigger = next_tier(line.plan)
    if bigger is not None:
        peak = current.peak if current else case.evidence.get("peak", quantity)
        from_day = current.overuse_start if current else min(max(on, start), end - timedelta(1))
        offers.append(pricing.upgrade_option(
            currency=currency, plan_name=bigger.name, plan_price=bigger.unit_price,
            line_price=line.unit_price, line_quantity=line.quantity, peak=peak, start=start,
            end=end, from_day=from_day,
        ))  # fmt: skip
    offers.append(pricing.grace_option(
        currency=currency, quantity=quantity, unit=unit,
        until=on + timedelta(days=rules.grace_days), days=rules.grace_days,
    ))  # fmt: skip
    offers.append(pricing.reduction_option(
        current, currency=currency, unit=unit, on=on,
        by=on + timedelta(days=rules.reduction_days),
    ))  # fmt: skip

    options = []
    for offer in offers:
        fees, fees_text = _fees(case, offer.amount, currency)
        option = RemediationOption(
            case=case, kind=offer.kind, amount=offer.amount, currency=currency, fees=fees,
            fees_explanation=fees_text, explanation=offer.explanation, details=offer.details,
            deadline=offer.deadline, priced_amount=offer.amount,
            target_plan=bigger if offer.kind == K.UPGRADE else None,
        )  # fmt: skip
        stamp(option, actor=actor, reason=reason)
        option.save()
        options.append(option)
    return options


def _fees(case: BreachCase, amount: Decimal, currency: str) -> tuple[Decimal, str]:
    rules = breach_rules(case.policy).for_classification(case.classification)
    why = f"{case.get_classification_display().lower() or 'unclassified'} case, {case.policy}"
    return pricing.fee(amount, rules.fee_percent, currency, why=why)


def refresh_for_classification(case: BreachCase, *, actor, reason: str) -> None:
    """A case classified before its offer: fees and deadlines follow the classification's
    rules, except on options a manager adjusted."""
    rules = breach_rules(case.policy).for_classification(case.classification)
    for option in case.options.select_for_update().filter(adjusted_by__isnull=True):
        option.fees, option.fees_explanation = _fees(case, option.amount, option.currency)
        if option.kind == K.GRACE_EXTENSION:
            option.deadline = case_confirmed_on(case) + timedelta(days=rules.grace_days)
        elif option.kind == K.REDUCTION_PLAN:
            option.deadline = case_confirmed_on(case) + timedelta(days=rules.reduction_days)
        stamp(option, actor=actor, reason=reason)
        option.save()


def case_confirmed_on(case: BreachCase) -> date:
    confirmed = case.events.filter(action="confirm").order_by("-at").first()
    return timezone.localdate(confirmed.at) if confirmed else case.detected_on


def _editable_option(option_id, *, actor, what: str) -> tuple[BreachCase, RemediationOption]:
    require_manager(actor, what)
    try:
        case_id = RemediationOption.objects.values_list("case_id", flat=True).get(pk=option_id)
    except (RemediationOption.DoesNotExist, ValueError, TypeError):
        raise DomainError(f"No remediation option with id {option_id}.") from None
    case = locked_case(case_id)
    if case.state != BreachCase.State.CONFIRMED:
        raise TransitionNotAllowed(
            f"Options change only before the offer; the case is {case.get_state_display()}."
        )
    return case, case.options.select_for_update().get(pk=option_id)


def _record(case, option, *, actor, action: str, reason: str, summary: str, data: dict):
    stamp(option, actor=actor, reason=reason)
    option.save()
    event(case, kind=CaseEvent.Kind.OPTION, action=action, actor=actor, reason=reason,
          summary=summary, data=data, customer_visible=False)  # fmt: skip
    audit(actor, f"remediation_option.{action}", option, reason=reason, policy=case.policy,
          data={"case": case.pk, "kind": option.kind, **data})  # fmt: skip
    return option


@transaction.atomic
def remediation_option_adjust(
    *, actor, option_id: int, reason: str, amount: Decimal | None = None,
    fees: Decimal | None = None, deadline: date | None = None, explanation: str | None = None,
) -> RemediationOption:  # fmt: skip
    """Change an option's figures before the offer; what the engine priced stays on record."""
    reason = require_reason(reason)
    case, option = _editable_option(option_id, actor=actor, what="adjust remediation options")
    changes = {}
    for name, value in (("amount", amount), ("fees", fees)):
        if value is None:
            continue
        if value < 0:
            raise DomainError("An amount cannot be negative.", field=name)
        value = round_money(value, option.currency)
        changes[name] = {"from": str(getattr(option, name)), "to": str(value)}
        setattr(option, name, value)
    if amount is not None and option.kind == K.TRUE_UP:
        adjustment = option.amount - _true_up_base(case, option)
        option.details = {**option.details, "adjustment": str(adjustment)}
        _explain_included(case, option)
    if fees is not None:
        option.fees_explanation = "Fee set by the account manager, apart from license fees."
    if deadline is not None:
        if not option.has_deadline:
            raise DomainError("Only a grace extension or a reduction plan has a deadline.",
                              field="deadline")  # fmt: skip
        changes["deadline"] = {"from": str(option.deadline), "to": str(deadline)}
        option.deadline = deadline
    if explanation is not None and explanation.strip():
        option.explanation = explanation.strip()
        changes["explanation"] = True
    if not changes:
        raise DomainError("Nothing to change: give an amount, fees, a deadline or a text.")
    option.adjusted_by = actor
    summary = f"{option.get_kind_display()} adjusted"
    return _record(
        case, option, actor=actor, action="adjust", reason=reason, summary=summary, data=changes
    )


def _explain_included(case: BreachCase, true_up: RemediationOption) -> None:
    """What the customer reads says what the true-up holds: each earlier period included, with
    the numbers it was priced from, and the sum that makes the amount (an adjustment too)."""
    base_text = true_up.explanation.split(pricing.INCLUDED_TEXT)[0].rstrip()
    periods = [
        _period_price(x)
        for x in case.earlier_overuse.filter(decision=EarlierOveruse.Decision.INCLUDED)
    ]
    suffix = pricing.included_text(
        Decimal(true_up.details.get("current_charge", "0")), periods,
        currency=true_up.currency, adjustment=Decimal(true_up.details.get("adjustment", "0")),
    )  # fmt: skip
    true_up.explanation = f"{base_text} {suffix}".rstrip()


def _period_price(item: EarlierOveruse) -> pricing.PeriodPrice:
    """An earlier period as it was priced, for the true-up's explanation."""
    return pricing.PeriodPrice(
        start=item.period_start, end=item.period_end, amount_paid=item.amount_paid,
        amount_source="", quantity=item.quantity, peak=item.peak,
        overuse_start=item.first_day_over, days_over=(item.period_end - item.first_day_over).days,
        days=(item.period_end - item.period_start).days, charge=item.amount,
        explanation=item.explanation,
    )  # fmt: skip


def _true_up_base(case: BreachCase, option: RemediationOption) -> Decimal:
    included = sum(
        (i.amount for i in case.earlier_overuse.filter(decision=EarlierOveruse.Decision.INCLUDED)),
        ZERO,
    )
    return Decimal(option.details.get("current_charge", "0")) + included


@transaction.atomic
def remediation_option_drop(*, actor, option_id: int, reason: str) -> RemediationOption:
    """Take an option out of the offer (the true-up is priced on every case, and a manager may
    still leave it out); an offer needs at least one option left."""
    reason = require_reason(reason)
    case, option = _editable_option(option_id, actor=actor, what="drop remediation options")
    if option.dropped_at is not None:
        return option
    option.dropped_at, option.dropped_by = timezone.now(), actor
    summary = f"{option.get_kind_display()} dropped from the offer"
    return _record(case, option, actor=actor, action="drop", reason=reason, summary=summary,
                   data={})  # fmt: skip


@transaction.atomic
def remediation_option_restore(*, actor, option_id: int, reason: str) -> RemediationOption:
    reason = require_reason(reason)
    case, option = _editable_option(option_id, actor=actor, what="restore remediation options")
    if option.dropped_at is None:
        return option
    option.dropped_at, option.dropped_by = None, None
    return _record(case, option, actor=actor, action="restore", reason=reason,
                   summary=f"{option.get_kind_display()} back in the offer", data={})  # fmt: skip


@transaction.atomic
def earlier_overuse_decide(*, actor, item_id: int, decision: str, reason: str) -> EarlierOveruse:
    """Include an earlier period's over-use in the true-up, or waive it."""
    reason = require_reason(reason)
    require_manager(actor, "include or waive earlier over-use")
    if decision not in EarlierOveruse.Decision.values:
        raise DomainError("Choose included or waived.", field="decision")
    try:
        case_id = EarlierOveruse.objects.values_list("case_id", flat=True).get(pk=item_id)
    except (EarlierOveruse.DoesNotExist, ValueError, TypeError):
        raise DomainError(f"No earlier over-use with id {item_id}.") from None
    case = locked_case(case_id)
    if case.state != BreachCase.State.CONFIRMED:
        raise TransitionNotAllowed(
            f"Earlier periods are decided before the offer; the case is {case.get_state_display()}."
        )
    item = case.earlier_overuse.select_for_update().get(pk=item_id)
    item.decision, item.decided_by = decision, actor
    stamp(item, actor=actor, reason=reason)
    item.save()
    true_up = case.options.select_for_update().get(kind=K.TRUE_UP)
    current_charge = Decimal(true_up.details.get("current_charge", "0"))
    included = _true_up_base(case, true_up) - current_charge
    adjustment = Decimal(true_up.details.get("adjustment", "0"))
    true_up.amount = _true_up_base(case, true_up) + adjustment
    true_up.details = {**true_up.details, "included": str(included)}
    _explain_included(case, true_up)
    true_up.fees, true_up.fees_explanation = (
        (true_up.fees, true_up.fees_explanation) if true_up.adjusted_by_id
        else _fees(case, true_up.amount, true_up.currency)
    )  # fmt: skip
    _record(case, true_up, actor=actor, action=f"earlier_{decision}", reason=reason,
            summary=f"Over-use of {item.period_start:%-d %b %Y} to "
                    f"{item.period_end - timedelta(days=1):%-d %b %Y} {decision}",
            data={"period_start": item.period_start.isoformat(),
                  "amount": str(item.amount)})  # fmt: skip
    return item
