"""Money rules in one place: field precision, currency codes and rounding to the minor unit."""

from decimal import ROUND_HALF_UP, Decimal
from functools import cache

from babel.core import get_global
from babel.numbers import get_currency_precision
from django.db import models

MAX_DIGITS = 20
DECIMAL_PLACES = 6


def money_field(**kwargs) -> models.DecimalField:
    return models.DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES, **kwargs)


@cache
def currency_codes() -> frozenset[str]:
    # Babel's CLDR data: every currency some territory uses today.
    codes = set()
    for entries in get_global("territory_currencies").values():
        for code, _start, end, tender in entries:
            if tender and end is None:
                codes.add(code)
    return frozenset(codes)


def is_currency(code: str) -> bool:
    return code in currency_codes()


@cache
def minor_digits(currency: str) -> int:
    return get_currency_precision(currency)


@cache
def minor_unit(currency: str) -> Decimal:
    """The smallest amount of the currency: Decimal('0.01') for USD, Decimal('1') for JPY."""
    return Decimal(1).scaleb(-minor_digits(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round half up to the currency's ISO 4217 minor unit (JPY 0, USD 2, KWD 3)."""
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def currency_choices() -> list[tuple[str, str]]:
    return [(code, code) for code in sorted(currency_codes())]
