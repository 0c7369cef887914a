"""Amounts, fractions and explanations as people read them."""

from collections.abc import Callable
from decimal import Decimal

from ..money import minor_digits

# An explanation is written when it is read: quoting a hundred thousand lines for a total
# should not pay for a hundred thousand sentences nobody looks at.
# Hot paths pass (renderer name, arguments) rather than a closure: tuples of numbers and
# strings are invisible to the garbage collector, closures are not.
Text = str | Callable[[], str] | tuple


def money_text(amount: Decimal, currency: str) -> str:
    digits = minor_digits(currency)
    return f"{currency} {amount:,.{digits}f}"


def fraction_text(numerator, denominator) -> str:
    return f"{numerator}/{denominator}"


def seat_text(released, paid, noun, remaining, days, amount, credit, currency) -> str:
    return (
        f"{released} of {paid} {noun} released for {remaining} of {days} days: "
        f"{money_text(amount, currency)} × {fraction_text(released, paid)} × "
        f"{fraction_text(remaining, days)} = {money_text(credit, currency)}."
    )


def true_up_text(quantity, peak, days_over, days, amount, charge, currency) -> str:
    if peak <= quantity:
        return f"No charge: the peak of {peak} is within the {quantity} entitled."
    excess = peak - quantity
    return (
        f"{excess} over the {quantity} entitled (peak {peak}) for {days_over} of {days} days: "
        f"{money_text(amount, currency)} × {fraction_text(excess, quantity)} × "
        f"{fraction_text(days_over, days)} = {money_text(charge, currency)}."
    )


RENDERERS: dict[str, Callable[..., str]] = {"seat": seat_text}


def render(text: Text) -> str:
    if isinstance(text, str):
        return text
    if isinstance(text, tuple):
        name, arguments = text
        return RENDERERS[name](*arguments)
    return text()
