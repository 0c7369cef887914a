"""What the breaches API reads and writes. Amounts are strings with the currency's minor digits."""

from decimal import Decimal

from rest_framework import serializers
from rest_framework.settings import api_settings

from licensing.money import is_currency, minor_digits, round_money
from licensing.validation import DateField

BIGINT_MAX = 2**63 - 1


def by_index(errors: dict[int, dict], count: int) -> dict[int, dict] | list[dict]:
    """Errors of a list's items in the shape DRF gives its own nested errors."""
    if getattr(api_settings, "LIST_SERIALIZER_ERRORS_AS_DICT", False):
        return errors
    return [errors.get(index, {}) for index in range(count)]


# Usage reports


class UsageRowInput(serializers.Serializer):
    """One row, as documented; the rows are checked by the service, so a bad one is reported
    with its line number rather than refused here."""

    entitlement = serializers.IntegerField(help_text="The entitlement's id")
    date = DateField(help_text="The day the figure is for (YYYY-MM-DD)")
    metric = serializers.ChoiceField(choices=["seats_in_use", "api_calls", "installations"])
    quantity = serializers.IntegerField(min_value=0)


class UsageRowsInput(serializers.Serializer):
    rows = UsageRowInput(many=True)


class UsageFileInput(serializers.Serializer):
    file = serializers.FileField(
        help_text="CSV, UTF-8, header row `entitlement,date,metric,quantity` (line 1)."
    )


class UsageReportOutput(serializers.Serializer):
    id = serializers.IntegerField()
    rows = serializers.IntegerField(help_text="Data rows received")
    replaced = serializers.IntegerField(help_text="Figures that replaced earlier ones")


class RowErrorOutput(serializers.Serializer):
    line = serializers.IntegerField(
        allow_null=True,
        help_text="CSV: the header is line 1. JSON: rows count from 1. Null: the whole request.",
    )
    field = serializers.CharField()
    message = serializers.CharField()


class UsageErrorsOutput(serializers.Serializer):
    # A body the parser refuses (NUL, nesting, size) answers `detail` instead of row errors.
    errors = RowErrorOutput(many=True, required=False)
    detail = serializers.CharField(required=False)


# The true-up calculator


class TrueUpLineInput(serializers.Serializer):
    id = serializers.CharField(max_length=60)
    amount_paid = serializers.DecimalField(
        max_digits=20, decimal_places=6, min_value=Decimal(0),
        help_text="What the line holds for the period",
    )  # fmt: skip
    quantity = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX, help_text="Entitled")
    peak = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX, help_text="Highest in use")


class TrueUpInput(serializers.Serializer):
    currency = serializers.CharField(max_length=3)
    period_start = DateField()
    period_end = DateField(help_text="Exclusive: the first day after the period.")
    overuse_start = DateField(help_text="The first day over; charged from its start.")
    lines = TrueUpLineInput(many=True, allow_empty=False)

    def validate_currency(self, value: str) -> str:
        value = value.upper()
        if not is_currency(value):
            raise serializers.ValidationError(f"'{value}' is not an ISO 4217 currency in use.")
        return value

    def validate(self, attrs):
        errors: dict = {}
        start, end, over = attrs["period_start"], attrs["period_end"], attrs["overuse_start"]
        if end <= start:
            errors["period_end"] = ["The period must end after it starts."]
        elif not start <= over < end:
            errors["overuse_start"] = [
                f"Must fall within the period [{start:%Y-%m-%d}, {end:%Y-%m-%d})."
            ]
        currency, line_errors, seen = attrs["currency"], {}, set()
        for index, line in enumerate(attrs["lines"]):
            problems = {}
            if line["amount_paid"] != round_money(line["amount_paid"], currency):
                problems["amount_paid"] = [
                    f"{currency} amounts have at most {minor_digits(currency)} decimal places."
                ]
            if line["id"] in seen:
                problems["id"] = [f"Line id '{line['id']}' is used twice."]
            seen.add(line["id"])
            if problems:
                line_errors[index] = problems
        if line_errors:
            errors["lines"] = by_index(line_errors, len(attrs["lines"]))
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class TrueUpLineOutput(serializers.Serializer):
    id = serializers.CharField()
    charge = serializers.CharField(help_text="With exactly the currency's minor digits")
    explanation = serializers.CharField()


class TrueUpOutput(serializers.Serializer):
    currency = serializers.CharField()
    lines = TrueUpLineOutput(many=True)
    total_charge = serializers.CharField()


# The worked example: USD 1550.00 × 10/50 × 21/31 = 210.00.
TRUE_UP_EXAMPLE = {
    "currency": "USD",
    "period_start": "2026-03-01",
    "period_end": "2026-04-01",
    "overuse_start": "2026-03-11",
    "lines": [{"id": "seats", "amount_paid": "1550.00", "quantity": 50, "peak": 60}],
}
