from django.contrib.auth import get_user_model
from django.utils import timezone
from django_fsm import has_transition_perm
from rest_framework import serializers

from audit.limits import REASON_MAX_LENGTH
from audit.personal import MaskPersonalData, personal_email_field, validate_personal_email

from .models import Bundle, BundleItem, Contract, ContractLine, Customer, Entitlement, Plan, Product
from .money import is_currency
from .services import CONTRACT_TRANSITIONS, ENTITLEMENT_TRANSITIONS
from .validation import DateField

# The columns' limits (PositiveIntegerField, PositiveBigIntegerField): larger numbers are a 400
# here rather than a database error.
INTEGER_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1


def _allowed(obj, names, request) -> list[str]:
    user = getattr(request, "user", None)
    if user is None:
        return []
    obj.as_of = timezone.localdate()  # the API is the edge: date-bound guards judge by today
    return [name for name in names if has_transition_perm(getattr(obj, name), user)]


class CustomerSerializer(MaskPersonalData, serializers.ModelSerializer):
    billing_email = personal_email_field(required=False, allow_blank=True)

    class Meta:
        model = Customer
        fields = ["id", "code", "name", "country", "billing_email", "created_at"]
        read_only_fields = ["id", "created_at"]
        personal_fields = ["billing_email"]

    def validate_billing_email(self, value: str) -> str:
        return validate_personal_email(value)


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "sku", "name", "description"]
        # A note, bounded like every reason and note (audit.limits).
        extra_kwargs = {"description": {"max_length": REASON_MAX_LENGTH}}


class BundleItemSerializer(serializers.ModelSerializer):
    product = serializers.SlugRelatedField(slug_field="sku", queryset=Product.objects.all())

    class Meta:
        model = BundleItem
        fields = ["product", "quantity", "standalone_price"]


class BundleSerializer(serializers.ModelSerializer):
    items = BundleItemSerializer(many=True, read_only=True)

    class Meta:
        model = Bundle
        fields = ["id", "code", "name", "items"]


class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = [
            "id", "code", "name", "product", "bundle", "tier", "currency", "billing_cycle",
            "pricing_model", "unit_price", "unit_label",
        ]  # fmt: skip

    def validate_currency(self, value: str) -> str:
        value = value.upper()
        if not is_currency(value):
            raise serializers.ValidationError(f"'{value}' is not an ISO 4217 currency in use.")
        return value

    def validate(self, attrs):
        if bool(attrs.get("product")) == bool(attrs.get("bundle")):
            raise serializers.ValidationError(
                {"product": "A plan sells exactly one product or one bundle."}
            )
        return attrs


class ContractLineSerializer(serializers.ModelSerializer):
    plan_code = serializers.CharField(source="plan.code", read_only=True)
    period_amount = serializers.DecimalField(max_digits=20, decimal_places=6, read_only=True)

    class Meta:
        model = ContractLine
        fields = ["id", "plan", "plan_code", "quantity", "unit_price", "period_amount"]


class ContractSerializer(serializers.ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    account_manager = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    lines = ContractLineSerializer(many=True, read_only=True)
    allowed_transitions = serializers.SerializerMethodField()

    class Meta:
        model = Contract
        fields = [
            "id", "number", "customer", "customer_name", "account_manager", "currency",
            "term_start", "term_end", "billing_anchor", "prepaid", "commitment_years",
            "grace_days", "status", "version", "lines", "allowed_transitions",
        ]  # fmt: skip

    def get_allowed_transitions(self, obj) -> list[str]:
        return _allowed(obj, CONTRACT_TRANSITIONS, self.context.get("request"))


class CustomerContractSerializer(ContractSerializer):
    """The customer's contract: their account manager's username is a staff name, left out."""

    class Meta(ContractSerializer.Meta):
        fields = [f for f in ContractSerializer.Meta.fields if f != "account_manager"]


class LineInputSerializer(serializers.Serializer):
    plan = serializers.SlugRelatedField(slug_field="code", queryset=Plan.objects.all())
    quantity = serializers.IntegerField(min_value=1, max_value=INTEGER_MAX)
    unit_price = serializers.DecimalField(
        max_digits=20, decimal_places=6, min_value=0, required=False
    )


class ContractCreateSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=30)
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all())
    account_manager = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.all(), required=False
    )
    term_start = DateField()
    term_end = DateField()
    billing_anchor = DateField(required=False)
    prepaid = serializers.BooleanField(default=False)
    commitment_years = serializers.IntegerField(min_value=1, max_value=10, default=1)
    grace_days = serializers.IntegerField(min_value=0, max_value=365, default=0)
    lines = LineInputSerializer(many=True, allow_empty=False)
    reason = serializers.CharField(
        max_length=REASON_MAX_LENGTH, required=False, default="New contract"
    )

    def validate_number(self, value):
        if Contract.objects.filter(number=value).exists():
            raise serializers.ValidationError(f"Contract number {value} is already taken.")
        return value

    def validate(self, attrs):
        if attrs["term_end"] <= attrs["term_start"]:
            raise serializers.ValidationError({"term_end": "The term must end after it starts."})
        currencies = {line["plan"].currency for line in attrs["lines"]}
        if len(currencies) > 1:
            found = ", ".join(sorted(currencies))
            raise serializers.ValidationError(
                {"lines": f"All plans must share one currency, not {found}."}
            )
        return attrs


class EntitlementSerializer(serializers.ModelSerializer):
    contract_number = serializers.CharField(source="contract.number", read_only=True)
    enforced_by = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)
    allowed_transitions = serializers.SerializerMethodField()

    class Meta:
        model = Entitlement
        fields = [
            "id", "contract", "contract_number", "contract_line", "kind", "name", "scope", "key",
            "quantity", "unit", "starts_on", "ends_on", "renewal", "state", "held_from",
            "grace_ends_on", "version", "enforced_by", "allowed_transitions",
        ]  # fmt: skip

    def get_allowed_transitions(self, obj) -> list[str]:
        return _allowed(obj, ENTITLEMENT_TRANSITIONS, self.context.get("request"))


class EntitlementCreateSerializer(serializers.Serializer):
    contract = serializers.PrimaryKeyRelatedField(queryset=Contract.objects.all())
    contract_line = serializers.PrimaryKeyRelatedField(
        queryset=ContractLine.objects.all(), required=False, allow_null=True, default=None,
        help_text="The contract's line the entitlement is sold on (prices breach true-ups)",
    )  # fmt: skip
    kind = serializers.ChoiceField(choices=Entitlement.Kind.choices)
    name = serializers.CharField(max_length=200)
    scope = serializers.CharField(max_length=200)
    key = serializers.CharField(max_length=80, required=False, default="")
    quantity = serializers.IntegerField(min_value=0, max_value=BIGINT_MAX)
    unit = serializers.CharField(max_length=40, default="seats")
    starts_on = DateField()
    ends_on = DateField()
    renewal = serializers.ChoiceField(
        choices=Entitlement.Renewal.choices, default=Entitlement.Renewal.AUTO
    )
    reason = serializers.CharField(
        max_length=REASON_MAX_LENGTH, required=False, default="Granted under the contract"
    )

    def validate(self, attrs):
        if attrs["ends_on"] <= attrs["starts_on"]:
            raise serializers.ValidationError({"ends_on": "It must end after it starts."})
        return attrs


class TransitionSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version you read; a mismatch answers 409."
    )
