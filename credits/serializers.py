from decimal import Decimal

from rest_framework import serializers

from licensing.money import is_currency, minor_digits
from licensing.proration import BASES, INTENTS


class AmountField(serializers.DecimalField):
    """A non-negative amount; its decimals are checked against the currency in `validate`."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=20, decimal_places=6, min_value=Decimal(0), **kwargs)


class ComponentInput(serializers.Serializer):
    id = serializers.CharField(max_length=60)
    standalone_price = AmountField()
    quantity_before = serializers.IntegerField(min_value=1)
    quantity_after = serializers.IntegerField(min_value=0, required=False, allow_null=True)

    def validate(self, attrs):
        after = attrs.get("quantity_after")
        if after is not None and after > attrs["quantity_before"]:
            raise serializers.ValidationError({"quantity_after": "Cannot exceed quantity_before."})
        return attrs


class LineInput(serializers.Serializer):
    id = serializers.CharField(max_length=60)
    basis = serializers.ChoiceField(choices=BASES)
    amount_paid = AmountField()
    quantity_before = serializers.IntegerField(min_value=1, required=False)
    quantity_after = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    included_units = serializers.IntegerField(min_value=1, required=False)
    units_used = serializers.IntegerField(min_value=0, required=False)
    components = ComponentInput(many=True, required=False)

    REQUIRED = {
        "seat": ("quantity_before",),
        "usage": ("included_units", "units_used"),
        "bundle": ("components",),
    }

    def validate(self, attrs):
        errors = {}
        for name in self.REQUIRED[attrs["basis"]]:
            if attrs.get(name) in (None, []):
                errors[name] = f"Required for a {attrs['basis']} line."
        after, before = attrs.get("quantity_after"), attrs.get("quantity_before")
        if attrs["basis"] == "seat" and None not in (after, before) and after > before:
            errors["quantity_after"] = "Cannot exceed quantity_before."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class CalculatorInput(serializers.Serializer):
    currency = serializers.CharField(max_length=3)
    intent = serializers.ChoiceField(choices=INTENTS)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    effective_date = serializers.DateField()
    lines = LineInput(many=True, allow_empty=False)

    def validate_currency(self, value: str) -> str:
        value = value.upper()
        if not is_currency(value):
            raise serializers.ValidationError(f"'{value}' is not an ISO 4217 currency in use.")
        return value

    def validate(self, attrs):
        errors: dict = {}
        start, end, effective = attrs["period_start"], attrs["period_end"], attrs["effective_date"]
        if end <= start:
            errors["period_end"] = "The period must end after it starts."
        elif not start <= effective <= end:
            errors["effective_date"] = (
                f"Must fall within the period [{start:%Y-%m-%d}, {end:%Y-%m-%d}]."
            )
        line_errors, seen, digits = [], set(), minor_digits(attrs["currency"])
        for line in attrs["lines"]:
            problems = {}
            if line["id"] in seen:
                problems["id"] = f"Line id '{line['id']}' is used twice."
            seen.add(line["id"])
            if -line["amount_paid"].as_tuple().exponent > digits:
                problems["amount_paid"] = (
                    f"{attrs['currency']} amounts have at most {digits} decimal places."
                )
            if attrs["intent"] == "terminate":
                afters = [line.get("quantity_after")] + [
                    c.get("quantity_after") for c in line.get("components", [])
                ]
                if any(a not in (None, 0) for a in afters):
                    problems["quantity_after"] = (
                        "A termination releases everything: omit quantity_after or use 0."
                    )
            elif (
                attrs["intent"] == "downgrade"
                and line["basis"] == "seat"
                and line.get("quantity_after") is None
            ):
                problems["quantity_after"] = "Required for a downgrade."
            line_errors.append(problems)
        if any(line_errors):
            errors["lines"] = line_errors
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ComponentOutput(serializers.Serializer):
    id = serializers.CharField()
    credit = serializers.CharField()
    explanation = serializers.CharField()


class LineOutput(serializers.Serializer):
    id = serializers.CharField()
    credit = serializers.CharField()
    explanation = serializers.CharField()
    components = ComponentOutput(many=True, required=False)


class CalculatorOutput(serializers.Serializer):
    currency = serializers.CharField()
    policy_version = serializers.CharField()
    lines = LineOutput(many=True)
    total_credit = serializers.CharField()
    notes = serializers.ListField(child=serializers.CharField())
