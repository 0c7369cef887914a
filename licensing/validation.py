"""Input rules that many writes share, each written once: the dates we accept and the countries.

Serializers and forms take their date fields from here, so an out-of-range date is a 400 or a
form error naming the field, never a database or arithmetic error further in.
"""

from datetime import date
from functools import cache

from django import forms
from django.core.exceptions import ValidationError
from rest_framework import serializers

from audit.limits import DATE_MAX, DATE_MIN

DATE_RANGE_MESSAGE = f"Give a date between {DATE_MIN.isoformat()} and {DATE_MAX.isoformat()}."

# Codes babel knows that are not countries: the EU, the eurozone, the UN, "outlying Oceania",
# pseudo-locales and "unknown". Kosovo's user-assigned XK stays: it is used as a country code.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "QO", "UN", "XA", "XB", "ZZ"})


def validate_date_in_range(value: date) -> None:
    if value is not None and not DATE_MIN <= value <= DATE_MAX:
        raise ValidationError(DATE_RANGE_MESSAGE, code="date_range")


def date_in_range(value: date) -> bool:
    return DATE_MIN <= value <= DATE_MAX


class DateField(serializers.DateField):
    """The API's date field: ISO 8601, between DATE_MIN and DATE_MAX."""

    default_validators = [validate_date_in_range]


class DateFormField(forms.DateField):
    """The pages' date field: the same bounds as the API's."""

    default_validators = [validate_date_in_range]


@cache
def country_codes() -> frozenset[str]:
    from babel import Locale

    territories = Locale("en").territories
    return frozenset(c for c in territories if len(c) == 2 and c.isalpha()) - _NOT_COUNTRIES


def is_country(code: str) -> bool:
    return code in country_codes()
