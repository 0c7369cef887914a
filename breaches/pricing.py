"""Remediation options priced: pure functions on `Decimal` over plain facts (no database).

The true-up is the engine's (`breaches.engine.true_up_quote`, the seat credit run the other
way); the other options reuse licensing's proration arithmetic and rounding, so a customer
never sees two answers for one day of use. Fees are computed apart and never folded in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from licensing.pricing.arithmetic import ZERO, round_money, seat_value
from licensing.pricing.wording import money_text

from .engine import TrueUpLine, true_up_quote


@dataclass(frozen=True, slots=True)
class PeriodPrice:
    """Over-use priced within one billing period [start, end)."""

    start: date
    end: date
    amount_paid: Decimal
    amount_source: str
    quantity: int
    peak: int
    overuse_start: date
    days_over: int
    days: int
    charge: Decimal
    explanation: str


@dataclass(frozen=True, slots=True)
class Priced:
    kind: str
    amount: Decimal
    currency: str
    explanation: str
    fees: Decimal = ZERO
    fees_explanation: str = ""
    deadline: date | None = None
    details: dict = field(default_factory=dict)


def price_period(*, currency: str, start: date, end: date, amount_paid: Decimal,
                 amount_source: str, quantity: int,
                 over_days: list[tuple[date, int]]) -> PeriodPrice | None:  # fmt: skip
    """The true-up of the period: from its first day over (the period's start when the run
    began earlier) to its end, at the period's peak. None when no day over falls in it."""
    inside = [(day, qty) for day, qty in over_days if start <= day < end]
    if not inside:
        return None
    overuse_start = min(day for day, _ in inside)
    peak = max(qty for _, qty in inside)
    quote = true_up_quote(
        currency=currency, period_start=start, period_end=end, overuse_start=overuse_start,
        lines=(TrueUpLine("line", amount_paid, quantity, peak),),
    )  # fmt: skip
    line = quote.lines[0]
    return PeriodPrice(
        start=start, end=end, amount_paid=amount_paid, amount_source=amount_source,
        quantity=quantity, peak=peak, overuse_start=overuse_start,
        days_over=(end - overuse_start).days, days=(end - start).days, charge=line.charge,
        explanation=f"{_period_text(start, end)}: {line.explanation} ({amount_source})",
    )  # fmt: skip


def _period_text(start: date, end: date) -> str:
    return f"{start:%-d %b %Y} to {end - timedelta(days=1):%-d %b %Y}"


def fee(amount: Decimal, percent: Decimal, currency: str, *, why: str) -> tuple[Decimal, str]:
    if percent <= 0 or amount <= 0:
        return round_money(ZERO, currency), ""
    charged = round_money(amount * percent / 100, currency)
    return charged, (
        f"A {percent.normalize()}% fee on {money_text(amount, currency)} ({why}): "
        f"{money_text(charged, currency)}, charged apart from license fees."
    )


def true_up_option(current: PeriodPrice | None, *, currency: str, unit: str,
                   included: Sequence[PeriodPrice] = ()) -> Priced:  # fmt: skip
    """Always offered: the current period's true-up (zero when no day of it was over), plus
    the earlier periods the manager included, each priced the same way."""
    charge = current.charge if current else round_money(ZERO, currency)
    if current is None:
        text = "No over-use falls in the current billing period: nothing to true up for it."
    else:
        text = (
            f"Buy the {current.peak - current.quantity:,} extra {unit} used, back-dated to "
            f"{current.overuse_start:%-d %B %Y}, for the rest of the period. {current.explanation}"
        )
    earlier = sum((p.charge for p in included), ZERO)
    if included:
        text += " " + included_text(charge, included, currency=currency)
    details = {"current_charge": str(charge), "included": str(earlier)}
    if current is not None:
        details |= _period_details(current)
    return Priced("true_up", charge + earlier, currency, text, details=details)


INCLUDED_TEXT = "Earlier periods included:"


def included_text(current_charge: Decimal, included: Sequence[PeriodPrice], *, currency: str,
                  adjustment: Decimal = ZERO) -> str:  # fmt: skip
    """What the true-up adds for earlier periods: each period with the numbers it was priced
    from, then the sum that makes the amount, so every figure in it can be checked."""
    if not included:
        return ""
    ordered = sorted(included, key=lambda p: p.start)
    periods = "; ".join(p.explanation for p in ordered)
    terms = [f"{money_text(current_charge, currency)} for the current period"]
    terms += [f"+ {money_text(p.charge, currency)} for {_period_text(p.start, p.end)}"
              for p in ordered]  # fmt: skip
    if adjustment > 0:
        terms.append(f"+ {money_text(adjustment, currency)} added by the account manager")
    elif adjustment < 0:
        terms.append(f"− {money_text(-adjustment, currency)} taken off by the account manager")
    total = current_charge + sum((p.charge for p in ordered), ZERO) + adjustment
    return f"{INCLUDED_TEXT} {periods}. Total: {' '.join(terms)} = {money_text(total, currency)}."


def _period_details(p: PeriodPrice) -> dict:
    return {
        "period_start": p.start.isoformat(), "period_end": p.end.isoformat(),
        "overuse_start": p.overuse_start.isoformat(), "amount_paid": str(p.amount_paid),
        "amount_source": p.amount_source, "quantity": p.quantity, "peak": p.peak,
        "days_over": p.days_over, "days": p.days,
    }  # fmt: skip


def upgrade_option(*, currency: str, plan_name: str, plan_price: Decimal, line_price: Decimal,
                   line_quantity: int, peak: int, start: date, end: date,
                   from_day: date) -> Priced:  # fmt: skip
    """The bigger plan's price for the peak quantity minus the line's price, for the rest of
    the period from `from_day`, by the same proration; never below zero."""
    bigger, current = plan_price * peak, line_price * line_quantity
    remaining, days = (end - from_day).days, (end - start).days
    amount = round_money(max(ZERO, seat_value(bigger - current, 1, 1, remaining, days)), currency)
    text = (
        f"Move to {plan_name} for {peak:,}: ({money_text(bigger, currency)} − "
        f"{money_text(current, currency)}) × {remaining}/{days} days = "
        f"{money_text(amount, currency)} for the rest of the period from {from_day:%-d %B %Y}."
    )
    return Priced("upgrade", amount, currency, text, details={
        "plan_price": str(plan_price), "peak": peak, "line_price": str(line_price),
        "line_quantity": line_quantity, "from_day": from_day.isoformat(),
        "period_start": start.isoformat(), "period_end": end.isoformat(),
        "remaining": remaining, "days": days,
    })  # fmt: skip


def grace_option(*, currency: str, quantity: int, unit: str, until: date, days: int) -> Priced:
    text = (
        f"No charge if usage is back within the {quantity:,} {unit} entitled by "
        f"{until:%-d %B %Y} ({days} days' grace); after that a true-up or an upgrade applies."
    )
    return Priced("grace_extension", round_money(ZERO, currency), currency, text, deadline=until,
                  details={"grace_days": days})  # fmt: skip


def reduction_option(current: PeriodPrice | None, *, currency: str, unit: str, on: date,
                     by: date) -> Priced:  # fmt: skip
    """Remove users down to the entitlement by `by`; only the over-use so far is charged:
    the true-up's formula for the days from the first day over to `on`."""
    if current is None or on <= current.overuse_start:
        amount, so_far = round_money(ZERO, currency), "nothing is charged for the past"
    else:
        elapsed = (min(on, current.end) - current.overuse_start).days
        excess = current.peak - current.quantity
        amount = round_money(
            seat_value(current.amount_paid, excess, current.quantity, elapsed, current.days),
            currency,
        )
        so_far = (
            f"the over-use so far is charged: {money_text(current.amount_paid, currency)} × "
            f"{excess}/{current.quantity} × {elapsed}/{current.days} days = "
            f"{money_text(amount, currency)}"
        )
    quantity = current.quantity if current else None
    target = f"the {quantity:,} {unit} entitled" if quantity else "the entitlement"
    text = f"Bring usage back to {target} by {by:%-d %B %Y}; {so_far}."
    return Priced("reduction_plan", amount, currency, text, deadline=by,
                  details={"target_quantity": quantity})  # fmt: skip
