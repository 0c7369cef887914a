"""The breach true-up: the seat credit's proration run the other way.

charge = amount_paid × (peak − quantity) / quantity × (period_end − overuse_start) / (period_end −
period_start), in whole days, back-dated to the first day over; rounded once per line, half up, to
the currency's minor unit; the total is the sum of the rounded lines; zero when the peak is not
above the entitled quantity. Periods are [start, end). Pure `Decimal`, no database.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .money import round_money
from .proration import ProrationError, fraction_text, money_text

ZERO = Decimal(0)


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


def true_up_days(period_start: date, period_end: date, overuse_start: date) -> tuple[int, int]:
    """(days over, days in the period): over-use counts from the start of its first day."""
    if period_end <= period_start:
        raise ProrationError("period_end", "The period must end after it starts.")
    if not period_start <= overuse_start < period_end:
        raise ProrationError(
            "overuse_start",
            f"Must fall within the period [{period_start:%Y-%m-%d}, {period_end:%Y-%m-%d}).",
        )
    return (period_end - overuse_start).days, (period_end - period_start).days


def true_up_charge(
    *, amount_paid: Decimal, quantity: int, peak: int, days_over: int, days: int, currency: str
) -> Decimal:
    """One line's charge, rounded once."""
    if quantity <= 0:
        raise ProrationError("quantity", "Must be more than zero.")
    if amount_paid < 0:
        raise ProrationError("amount_paid", "An amount cannot be negative.")
    if peak <= quantity:
        return round_money(ZERO, currency)
    return round_money(amount_paid * (peak - quantity) / quantity * days_over / days, currency)


def _explain(line: TrueUpLine, charge: Decimal, days_over: int, days: int, currency: str) -> str:
    if line.peak <= line.quantity:
        return f"No charge: the peak of {line.peak} is within the {line.quantity} entitled."
    excess = line.peak - line.quantity
    return (
        f"{excess} over the {line.quantity} entitled (peak {line.peak}) for {days_over} of "
        f"{days} days: {money_text(line.amount_paid, currency)} × "
        f"{fraction_text(excess, line.quantity)} × {fraction_text(days_over, days)} = "
        f"{money_text(charge, currency)}."
    )


def true_up_quote(
    *,
    currency: str,
    period_start: date,
    period_end: date,
    overuse_start: date,
    lines: tuple[TrueUpLine, ...],
) -> TrueUpQuote:
    """Price each line's over-use; the total is the sum of the rounded lines."""
    days_over, days = true_up_days(period_start, period_end, overuse_start)
    quotes = []
    for line in lines:
        charge = true_up_charge(
            amount_paid=line.amount_paid, quantity=line.quantity, peak=line.peak,
            days_over=days_over, days=days, currency=currency,
        )  # fmt: skip
        quotes.append(
            TrueUpLineQuote(line.id, charge, _explain(line, charge, days_over, days, currency))
        )
    total = sum((q.charge for q in quotes), round_money(ZERO, currency))
    return TrueUpQuote(currency, tuple(quotes), total)
