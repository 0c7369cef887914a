"""The true-up engine: over-use priced line by line, the credit engine run the other way.

Pure functions on `Decimal` (no database), built on licensing's pricing arithmetic, calendar and
wording, as credits/engine.py is: each line is rounded once, half up, to the currency's minor
unit, and the total is the sum of the rounded lines.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from licensing.pricing.arithmetic import ZERO, round_money, true_up_charge
from licensing.pricing.calendar import overuse_days
from licensing.pricing.wording import true_up_text


@dataclass(frozen=True, slots=True)
class TrueUpLine:
    id: str
    amount_paid: Decimal  # what the line holds for the period, for `quantity` units
    quantity: int  # entitled
    peak: int  # the highest figure of the run over


@dataclass(frozen=True, slots=True)
class TrueUpLineQuote:
    id: str
    charge: Decimal
    explanation: str


@dataclass(frozen=True, slots=True)
class TrueUpQuote:
    currency: str
    lines: tuple[TrueUpLineQuote, ...]
    total: Decimal


def true_up_quote(
    *,
    currency: str,
    period_start: date,
    period_end: date,
    overuse_start: date,
    lines: tuple[TrueUpLine, ...],
) -> TrueUpQuote:
    """Price each line's over-use from its first day over to the end of the period."""
    days_over, days = overuse_days(period_start, period_end, overuse_start)
    quotes = []
    for line in lines:
        charge = true_up_charge(
            amount_paid=line.amount_paid, quantity=line.quantity, peak=line.peak,
            days_over=days_over, days=days, currency=currency,
        )  # fmt: skip
        text = true_up_text(
            line.quantity, line.peak, days_over, days, line.amount_paid, charge, currency
        )
        quotes.append(TrueUpLineQuote(line.id, charge, text))
    total = sum((q.charge for q in quotes), round_money(ZERO, currency))
    return TrueUpQuote(currency, tuple(quotes), total)
