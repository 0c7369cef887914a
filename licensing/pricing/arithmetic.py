"""The value of a share of a payment: pure functions on `Decimal`, rounded once per result."""

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from ..money import minor_unit, round_money

ZERO = Decimal(0)
ONE = Decimal(1)

BASES = ("seat", "usage", "bundle")


class ProrationError(ValueError):
    """Inputs that no calculation can be made from; `field` names the culprit."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def seat_value(amount: Decimal, released: int, paid: int, remaining: int, days: int) -> Decimal:
    """The exact value of `released` of `paid` units for `remaining` of `days` days.

    The seat formula, in one place: amount × released/paid × remaining/days. Unrounded; the
    caller rounds once with `round_money` (or `round_to_unit` on a hot path).
    """
    return amount * released / paid * remaining / days


def round_to_unit(amount: Decimal, unit: Decimal) -> Decimal:
    """`round_money` with the minor unit looked up once, for loops over many lines."""
    return amount.quantize(unit, rounding=ROUND_HALF_UP)


def usage_consumed(units_used: int, included_units: int, elapsed: int, days: int):
    """(used share, time share): a usage commitment counts as consumed by the larger."""
    return Decimal(units_used) / Decimal(included_units), Decimal(elapsed) / Decimal(days)


def usage_value(amount: Decimal, consumed: Decimal) -> Decimal:
    """The exact value of what is left of a usage commitment once `consumed` is used."""
    return amount * max(ZERO, ONE - consumed)


def allocation_weights(parts: Iterable[tuple[Decimal, int]]) -> list[Decimal]:
    """Weights of a bundle's parts by standalone value: (price, quantity) → price × quantity."""
    return [price * quantity for price, quantity in parts]


def allocate(amount: Decimal, weight: Decimal, total_weight: Decimal) -> Decimal:
    """The exact share of `amount` a part of `weight` carries (unrounded)."""
    return amount * weight / total_weight


def overuse_charge(
    *, unit_price: Decimal, excess: int, remaining: int, days: int, currency: str
) -> Decimal:
    """A breach true-up: the same proration run the other way (seats bought for the rest)."""
    return round_money(seat_value(unit_price * excess, 1, 1, remaining, days), currency)


def true_up_charge(
    *, amount_paid: Decimal, quantity: int, peak: int, days_over: int, days: int, currency: str
) -> Decimal:
    """A breach true-up for one line: the seat credit run the other way, rounded once.

    amount_paid × (peak − quantity)/quantity × days_over/days, back-dated to the first day over;
    zero when the peak is not above the entitled quantity.
    """
    if quantity <= 0:
        raise ProrationError("quantity", "Must be more than zero.")
    if amount_paid < 0:
        raise ProrationError("amount_paid", "An amount cannot be negative.")
    if peak <= quantity:
        return round_money(ZERO, currency)
    return round_money(
        seat_value(amount_paid, peak - quantity, quantity, days_over, days), currency
    )


__all__ = [
    "BASES", "ONE", "ZERO", "ProrationError", "allocate", "allocation_weights", "minor_unit",
    "overuse_charge", "round_money", "round_to_unit", "seat_value", "true_up_charge",
    "usage_consumed", "usage_value",
]  # fmt: skip
