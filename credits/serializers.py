"""The credits API's input and output: parse and shape, nothing more.

Amounts go out as strings with exactly their currency's minor digits (JPY 0, USD 2, KWD 3).
"""

from datetime import date
from decimal import Decimal
from operator import attrgetter

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from audit.limits import REASON_MAX_LENGTH
from audit.personal import MaskPersonalData
from licensing.access import contracts_for_user
from licensing.money import is_currency, minor_digits, round_money
from licensing.pricing.arithmetic import BASES
from licensing.validation import DateField

from .engine import termination_problem
from .models import (
    ApprovalStep,
    ChangeLine,
    ChangeRequest,
    Credit,
    CreditForm,
    CreditPolicyVersion,
    Dispute,
    ExchangeRate,
    Intent,
)
from .quoting import basis_of
from .services.forms import credit_form_refusal

# The columns' limits (PositiveIntegerField, PositiveBigIntegerField): a larger number is a 400
# here rather than a database error.
INTEGER_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1


def _quantity(*, max_value: int = BIGINT_MAX, **kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(max_value=max_value, **kwargs)


def by_index(errors: dict[int, dict], count: int) -> dict[int, dict] | list[dict]:
    """Errors of a list's items in the shape DRF gives its own nested errors.

    Since DRF 3.18 that is a dict of the failing items by index ({"lines": {"1": {...}}}); with
    LIST_SERIALIZER_ERRORS_AS_DICT off it is the older list with {} for each valid item.
    """
    if getattr(api_settings, "LIST_SERIALIZER_ERRORS_AS_DICT", False):
        return errors
    return [errors.get(index, {}) for index in range(count)]


class AmountField(serializers.DecimalField):
    """A non-negative amount; whether it fits the currency's minor unit is checked in `validate`."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=20, decimal_places=6, min_value=Decimal(0), **kwargs)


@extend_schema_field({"type": "string", "format": "decimal", "example": "464.52"})
class MoneyField(serializers.Field):
    """An amount read from `amount`, written with the minor digits of the currency at `currency`."""

    def __init__(self, amount: str, currency: str = "currency", **kwargs):
        self.amount, self.currency = attrgetter(amount), attrgetter(currency)
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, value) -> str:
        return str(round_money(self.amount(value), self.currency(value)))


# The calculator


# One calculator call prices at most this many lines (and components per bundle line).
CALCULATOR_MAX_LINES = 100


class CalculatorComponentInput(serializers.Serializer):
    id = serializers.CharField(max_length=60)
    standalone_price = AmountField()
    quantity_before = _quantity(min_value=1)
    quantity_after = _quantity(min_value=0, required=False, allow_null=True)

    def validate(self, attrs):
        after = attrs.get("quantity_after")
        if after is not None and after > attrs["quantity_before"]:
            raise serializers.ValidationError({"quantity_after": "Cannot exceed quantity_before."})
        return attrs


class CalculatorLineInput(serializers.Serializer):
    id = serializers.CharField(max_length=60)
    basis = serializers.ChoiceField(choices=BASES)
    amount_paid = AmountField()
    quantity_before = _quantity(min_value=1, required=False)
    quantity_after = _quantity(min_value=0, required=False, allow_null=True)
    included_units = _quantity(min_value=1, required=False)
    units_used = _quantity(min_value=0, required=False)
    components = CalculatorComponentInput(
        many=True, required=False, max_length=CALCULATOR_MAX_LINES
    )

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
        components = attrs.get("components") if attrs["basis"] == "bundle" else None
        if components and not any(c["standalone_price"] * c["quantity_before"] for c in components):
            # The price is split by standalone value: with none, there is nothing to split by.
            errors["components"] = "Give at least one component a standalone price."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class CalculatorInput(serializers.Serializer):
    currency = serializers.CharField(max_length=3)
    intent = serializers.ChoiceField(choices=Intent.choices)
    period_start = DateField()
    period_end = DateField(help_text="Exclusive: the first day after the period.")
    effective_date = DateField(help_text="The change takes effect at its start.")
    resume_date = DateField(
        required=False, allow_null=True,
        help_text="For a pause, and only for one: the first day back (after effective_date).",
    )  # fmt: skip
    lines = CalculatorLineInput(many=True, allow_empty=False, max_length=CALCULATOR_MAX_LINES)

    def validate_currency(self, value: str) -> str:
        value = value.upper()
        if not is_currency(value):
            raise serializers.ValidationError(f"'{value}' is not an ISO 4217 currency in use.")
        return value

    def validate(self, attrs):
        errors: dict = {}
        start, end, effective = attrs["period_start"], attrs["period_end"], attrs["effective_date"]
        if end <= start:
            errors["period_end"] = ["The period must end after it starts."]
        elif not start <= effective <= end:
            errors["effective_date"] = [
                f"Must fall within the period [{start:%Y-%m-%d}, {end:%Y-%m-%d}]."
            ]
        problem = resume_problem(attrs["intent"], effective, attrs.get("resume_date"))
        if problem:
            errors["resume_date"] = [problem]
        line_errors, seen = {}, set()
        for index, line in enumerate(attrs["lines"]):
            problems = self._line_problems(line, attrs["currency"], attrs["intent"])
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

    @staticmethod
    def _line_problems(line: dict, currency: str, intent: str) -> dict:
        """What the currency and the intent rule out in one line, in DRF's error shape."""
        problems: dict = {}
        if line["amount_paid"] != round_money(line["amount_paid"], currency):
            digits = minor_digits(currency)
            problems["amount_paid"] = [f"{currency} amounts have at most {digits} decimal places."]
        problem = _after_problem(intent, line.get("quantity_after"), needed=line["basis"] == "seat")
        if problem:
            problems["quantity_after"] = [problem]
        components = line.get("components", []) if line["basis"] == "bundle" else []
        component_errors, seen = {}, set()
        for index, component in enumerate(components):
            found = {}
            problem = _after_problem(intent, component.get("quantity_after"), needed=True)
            if problem:
                found["quantity_after"] = [problem]
            if component["id"] in seen:
                found["id"] = [f"Component id '{component['id']}' is used twice."]
            seen.add(component["id"])
            if found:
                component_errors[index] = found
        if component_errors:
            problems["components"] = by_index(component_errors, len(components))
        return problems


def resume_problem(intent: str, effective: date, resume: date | None) -> str | None:
    """A pause needs the day it ends, after it begins; no other change has one."""
    if intent != "pause":
        return "Only a pause has a resume date." if resume is not None else None
    if resume is None:
        return "Required for a pause: the first day the line is back."
    if resume <= effective:
        return "Must be after the effective date: a pause lasts a day or more."
    return None


def _after_problem(intent: str, after: int | None, *, needed: bool) -> str | None:
    problem = termination_problem(intent, after)
    if problem:
        return problem
    if intent == "downgrade" and needed and after is None:
        return "Required for a downgrade: how many remain afterwards."
    return None


class CalculatorComponentOutput(serializers.Serializer):
    id = serializers.CharField()
    credit = serializers.CharField()
    explanation = serializers.CharField()


class CalculatorLineOutput(serializers.Serializer):
    id = serializers.CharField()
    credit = serializers.CharField()
    explanation = serializers.CharField()
    components = CalculatorComponentOutput(many=True, required=False)


class CalculatorOutput(serializers.Serializer):
    currency = serializers.CharField()
    policy_version = serializers.CharField()
    lines = CalculatorLineOutput(many=True)
    total_credit = serializers.CharField()
    notes = serializers.ListField(
        child=serializers.CharField(), required=False, help_text="Policy notes, such as a minimum."
    )


# Policies


class CreditPolicySerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True, help_text="As quotes name it: credit/v<number>")

    class Meta:
        model = CreditPolicyVersion
        fields = [
            "number", "label", "effective_from", "title", "introduction", "change_summary",
            "text", "examples", "published_at",
        ]  # fmt: skip


# Change requests and credits


class ApprovalStepSerializer(serializers.ModelSerializer):
    threshold = MoneyField("threshold", "credit.currency")
    decided_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )

    class Meta:
        model = ApprovalStep
        fields = [
            "order", "role", "threshold", "status", "due_at", "escalated_at", "decided_by",
            "decided_at", "reason",
        ]  # fmt: skip
        read_only_fields = fields


class CreditSerializer(serializers.ModelSerializer):
    amount = MoneyField("amount")
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contract_number = serializers.CharField(source="contract.number", read_only=True)
    policy_version = serializers.CharField(source="policy.label", read_only=True)
    calculated_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    steps = ApprovalStepSerializer(many=True, read_only=True)
    base_amount = serializers.SerializerMethodField(
        help_text="The amount in the policy's currency, which the approval thresholds use."
    )

    class Meta:
        model = Credit
        fields = [
            "id", "number", "status", "amount", "currency", "form", "schedule", "change",
            "customer", "customer_name", "contract", "contract_number", "policy_version",
            "calculated_by", "created_at", "issued_at", "version", "steps",
            "base_currency", "base_amount", "exchange_rate", "rate_date", "corrects",
        ]  # fmt: skip
        # An answer, never an input: read-only, so a customer's may leave staff fields out.
        read_only_fields = fields

    def get_base_amount(self, credit) -> str | None:
        if credit.base_amount is None:
            return None
        return str(round_money(credit.base_amount, credit.base_currency))


class CustomerApprovalStepSerializer(serializers.ModelSerializer):
    """A step as the customer sees it: where it stands, never who decided or finance's reasons."""

    class Meta:
        model = ApprovalStep
        fields = ["order", "status", "due_at", "decided_at"]


class CustomerCreditSerializer(serializers.ModelSerializer):
    """The customer's credit: one audience, one serializer, so no staff name or note leaks."""

    amount = MoneyField("amount")
    contract_number = serializers.CharField(source="contract.number", read_only=True)
    policy_version = serializers.CharField(source="policy.label", read_only=True)
    steps = CustomerApprovalStepSerializer(many=True, read_only=True)

    class Meta:
        model = Credit
        fields = [
            "id", "number", "status", "amount", "currency", "form", "schedule", "change",
            "customer", "contract", "contract_number", "policy_version", "created_at",
            "issued_at", "version", "steps",
        ]  # fmt: skip


class ChangeLineSerializer(serializers.ModelSerializer):
    amount_paid = MoneyField("amount_paid", "change.currency")
    credit = MoneyField("credit", "change.currency")

    class Meta:
        model = ChangeLine
        fields = [
            "contract_line", "basis", "quantity_before", "quantity_after", "units_used",
            "amount_paid", "credit", "explanation",
        ]  # fmt: skip


class ChangeRequestSerializer(MaskPersonalData, serializers.ModelSerializer):
    contract_number = serializers.CharField(source="contract.number", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    requested_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    policy_version = serializers.CharField(source="policy.label", read_only=True)
    total = MoneyField("total")
    quote = CalculatorOutput(read_only=True, help_text="The engine's answer, frozen at request.")
    lines = ChangeLineSerializer(many=True, read_only=True)
    credit = CreditSerializer(read_only=True, allow_null=True, help_text="Null if nothing is due.")

    class Meta:
        model = ChangeRequest
        fields = [
            "id", "contract", "contract_number", "customer", "customer_name", "intent",
            "effective_date", "resume_date", "note", "requested_by", "requested_at",
            "policy_version", "currency", "total", "quote", "lines", "credit",
        ]  # fmt: skip
        personal_fields = ["note"]


class CustomerChangeRequestSerializer(ChangeRequestSerializer):
    """The customer's change request: the requester is named only when it is the reader (staff
    may have asked for it, and their names stay inside)."""

    credit = CustomerCreditSerializer(read_only=True, allow_null=True)
    requested_by = serializers.SerializerMethodField()

    def get_requested_by(self, obj) -> str | None:
        request = self.context.get("request")
        if request is not None and obj.requested_by_id == request.user.pk:
            return obj.requested_by.username
        return None


class ChangeLineInput(serializers.Serializer):
    contract_line = serializers.IntegerField(help_text="The id of a line of the contract.")
    quantity_after = _quantity(
        min_value=0, max_value=INTEGER_MAX, required=False, allow_null=True,
        help_text="Seats that remain; needed for a downgrade, 0 or omitted otherwise.",
    )  # fmt: skip
    units_used = _quantity(min_value=0, required=False, help_text="For a usage line.")
    plan_after = serializers.IntegerField(
        required=False, allow_null=True,
        help_text="For a move to a smaller plan: the id of a lower plan of the same product.",
    )  # fmt: skip


@extend_schema_field(OpenApiTypes.INT)
class ContractField(serializers.PrimaryKeyRelatedField):
    """A contract the signed-in user may see: another customer's reads as one that is not there."""

    def get_queryset(self):
        return contracts_for_user(self.context["request"].user)


class ChangeRequestInput(serializers.Serializer):
    contract = ContractField()
    intent = serializers.ChoiceField(choices=Intent.choices)
    effective_date = DateField(
        help_text="The change takes effect at its start: for a customer today or later; staff "
        "may backdate it within the contract's term."
    )
    resume_date = DateField(
        required=False, allow_null=True,
        help_text="For a pause, and only for one: the first day the lines are back.",
    )  # fmt: skip
    lines = ChangeLineInput(many=True, allow_empty=False)
    form = serializers.ChoiceField(choices=CreditForm.choices, default=CreditForm.CREDIT_NOTE)
    deferred_to = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="For a deferral: the id of the later contract line that receives the value.",
    )
    note = serializers.CharField(
        max_length=REASON_MAX_LENGTH, required=False, allow_blank=True, default=""
    )

    def validate(self, attrs):
        contract, intent = attrs["contract"], attrs["intent"]
        problem = resume_problem(intent, attrs["effective_date"], attrs.get("resume_date"))
        if problem:
            raise serializers.ValidationError({"resume_date": [problem]})
        bases = {line.pk: basis_of(line.plan) for line in contract.lines.select_related("plan")}
        errors, seen = {}, set()
        for index, line in enumerate(attrs["lines"]):
            pk, problems = line["contract_line"], {}
            if pk not in bases:
                problems["contract_line"] = [f"Contract {contract} has no line {pk}."]
            elif pk in seen:
                problems["contract_line"] = [f"Line {pk} is named twice."]
            else:
                problem = _after_problem(intent, line.get("quantity_after"),
                                         needed=bases[pk] != "usage")  # fmt: skip
                if problem:
                    problems["quantity_after"] = [problem]
                if bases[pk] == "usage" and line.get("units_used") is None:
                    problems["units_used"] = ["Required for a usage line: the units used so far."]
            seen.add(pk)
            if problems:
                errors[index] = problems
        if errors:
            raise serializers.ValidationError({"lines": by_index(errors, len(attrs["lines"]))})
        named = [line["contract_line"] for line in attrs["lines"]]
        refusal = credit_form_refusal(
            form=attrs["form"], contract=contract, intent=intent,
            effective_date=attrs["effective_date"],
            contract_lines=list(contract.lines.select_related("plan").filter(pk__in=named)),
        )  # fmt: skip
        if refusal:
            raise serializers.ValidationError({"form": [refusal]})
        return attrs


class DecisionInput(serializers.Serializer):
    reason = serializers.CharField(
        max_length=REASON_MAX_LENGTH, required=False, allow_blank=True, default=""
    )
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version you read; a mismatch answers 409."
    )


class ReasonedDecisionInput(DecisionInput):
    reason = serializers.CharField(
        max_length=REASON_MAX_LENGTH, help_text="Required: the requester reads it."
    )


class ResubmitInput(ReasonedDecisionInput):
    form = serializers.ChoiceField(
        choices=CreditForm.choices, required=False, help_text="Correct the credit form."
    )
    corrections = serializers.ListField(
        child=serializers.DictField(), required=False, write_only=True,
        help_text="Corrected inputs per line (`contract_line`, `quantity_after`, `units_used`): "
        "the credit is priced again from them.",
    )  # fmt: skip

    def validate_corrections(self, value):
        lines = CorrectionInput(data=value, many=True)
        lines.is_valid(raise_exception=True)
        return [dict(line) for line in lines.validated_data]


class DisputeSerializer(MaskPersonalData, serializers.ModelSerializer):
    raised_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    credit_number = serializers.CharField(source="credit.number", read_only=True)

    class Meta:
        model = Dispute
        fields = [
            "id", "credit", "credit_number", "status", "outcome", "reason", "raised_by",
            "raised_at", "due_on", "resolution", "resolved_by", "resolved_at",
            "corrective_credit",
        ]  # fmt: skip
        personal_fields = ["reason", "resolution"]
        # An answer, never an input: read-only, so a customer's may leave staff fields out.
        read_only_fields = fields


class CustomerDisputeSerializer(serializers.ModelSerializer):
    """The customer's dispute: finance's answer (written for them), never who in finance gave
    it. Only the customer's own users raise disputes, so `raised_by` is one of theirs."""

    raised_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    credit_number = serializers.CharField(source="credit.number", read_only=True)

    class Meta:
        model = Dispute
        fields = [
            "id", "credit", "credit_number", "status", "outcome", "reason", "raised_by",
            "raised_at", "due_on", "resolution", "resolved_at", "corrective_credit",
        ]  # fmt: skip
        read_only_fields = fields


class CorrectionInput(serializers.Serializer):
    contract_line = serializers.IntegerField()
    quantity_after = serializers.IntegerField(min_value=0, required=False)
    units_used = serializers.IntegerField(min_value=0, required=False)


class DisputeUpholdInput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Dispute.Outcome.choices)
    resolution = serializers.CharField(max_length=REASON_MAX_LENGTH)
    corrections = CorrectionInput(
        many=True, required=False, help_text="For a correction: the corrected inputs per line."
    )


class DisputeRejectInput(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)


class ExchangeRateSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    valid_from = DateField()

    class Meta:
        model = ExchangeRate
        fields = ["id", "currency", "base", "rate", "valid_from", "created_by", "created_at"]
        read_only_fields = ["id", "created_by", "created_at"]
        validators = []  # the service names a duplicate day in its own words


# The worked example: the API documents it and the calculator page opens on it.
CALCULATOR_EXAMPLE = {
    "currency": "USD",
    "intent": "downgrade",
    "period_start": "2026-03-01",
    "period_end": "2026-04-01",
    "effective_date": "2026-03-16",
    "lines": [
        {"id": "seats", "basis": "seat", "amount_paid": "1500.00", "quantity_before": 50,
         "quantity_after": 20},
        {"id": "api", "basis": "usage", "amount_paid": "1000.00", "included_units": 1000000,
         "units_used": 400000},
        {"id": "suite", "basis": "bundle", "amount_paid": "900.00", "components": [
            {"id": "editor", "standalone_price": "20.00", "quantity_before": 10,
             "quantity_after": 5},
            {"id": "viewer", "standalone_price": "5.00", "quantity_before": 40,
             "quantity_after": 40}]},
    ],
}  # fmt: skip


# The customer statement: every amount a decimal string with its currency beside it. One audience,
# one serializer: a customer's links lead to the portal's PDFs, staff's to the finance pages'.


def _pdf_link(serializer, route: str, pk: int) -> str:
    from django.urls import reverse

    path = reverse(route, args=[pk])
    request = serializer.context.get("request")
    return request.build_absolute_uri(path) if request else path


class StatementInvoiceSerializer(serializers.Serializer):
    pdf_route = "credits:invoice-pdf"

    id = serializers.IntegerField(source="invoice.pk")
    number = serializers.CharField(source="invoice.number")
    contract = serializers.CharField(source="invoice.contract.number")
    period_start = serializers.DateField(source="invoice.period_start")
    period_end = serializers.DateField(source="invoice.period_end")
    issued_on = serializers.DateField(source="invoice.issued_on")
    paid_on = serializers.DateField(source="invoice.paid_on")
    subtotal = MoneyField("subtotal")
    taken_off = MoneyField("taken_off")
    total = MoneyField("total")
    currency = serializers.CharField()
    pdf = serializers.SerializerMethodField()

    def get_pdf(self, row) -> str:
        return _pdf_link(self, self.pdf_route, row.invoice.pk)


class StatementEntrySerializer(serializers.Serializer):
    pdf_route = "credits:credit-note"

    credit = serializers.IntegerField(source="credit.pk")
    number = serializers.CharField(source="credit.number")
    contract = serializers.CharField(source="credit.contract.number")
    form = serializers.CharField(source="credit.form")
    form_label = serializers.CharField(source="credit.get_form_display")
    issued_at = serializers.DateTimeField(source="credit.issued_at")
    amount = MoneyField("amount")
    used = MoneyField("used")
    remaining = MoneyField("remaining")
    currency = serializers.CharField()
    pdf = serializers.SerializerMethodField()

    def get_pdf(self, row) -> str:
        return _pdf_link(self, self.pdf_route, row.credit.pk)


class StatementTotalsSerializer(serializers.Serializer):
    currency = serializers.CharField()
    invoiced = MoneyField("invoiced")
    paid = MoneyField("paid")
    credit_notes = MoneyField("credit_notes")
    balance = MoneyField("balance")
    discount_remaining = MoneyField("discount_remaining")
    deferral_remaining = MoneyField("deferral_remaining")


class StatementSerializer(serializers.Serializer):
    """A customer's statement as staff read it: links to the finance pages' PDFs."""

    customer = serializers.IntegerField(source="customer.pk")
    customer_name = serializers.CharField(source="customer.name")
    on = serializers.DateField()
    totals = StatementTotalsSerializer(many=True)
    invoices = StatementInvoiceSerializer(many=True)
    credit_notes = StatementEntrySerializer(many=True)
    discounts = StatementEntrySerializer(many=True)
    deferrals = StatementEntrySerializer(many=True)


class CustomerStatementInvoiceSerializer(StatementInvoiceSerializer):
    pdf_route = "credits_portal:invoice-pdf"


class CustomerStatementEntrySerializer(StatementEntrySerializer):
    pdf_route = "credits_portal:credit-note"


class CustomerStatementSerializer(StatementSerializer):
    """The statement as the customer's users read it: the same figures, links to the portal's
    PDFs, and nothing a customer's serializer would not carry (no staff name, no note)."""

    invoices = CustomerStatementInvoiceSerializer(many=True)
    credit_notes = CustomerStatementEntrySerializer(many=True)
    discounts = CustomerStatementEntrySerializer(many=True)
    deferrals = CustomerStatementEntrySerializer(many=True)
