from rest_framework import serializers

from audit.limits import REASON_MAX_LENGTH

from ..models import Assignment, ConnectedSystem
from ..validation import DateField
from .models import Delivery, DeprovisioningHold, DeprovisioningRun


class ConnectedSystemSerializer(serializers.ModelSerializer):
    """Staff read this; the secret is write-only and never answered."""

    # A bearer token or signing key: a few hundred characters, a JWT a few thousand.
    secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, default="", max_length=8192
    )

    class Meta:
        model = ConnectedSystem
        fields = ["id", "name", "kind", "protocol", "base_url", "secret"]
        # The model lets older label-only systems go without; a new connection names both.
        extra_kwargs = {"protocol": {"required": True}, "base_url": {"required": True}}


class AssignmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Assignment
        fields = ["id", "system", "external_id"]


class AssignmentCreateSerializer(serializers.Serializer):
    system = serializers.PrimaryKeyRelatedField(queryset=ConnectedSystem.objects.all())
    external_id = serializers.CharField(max_length=255)
    group_id = serializers.CharField(max_length=255, required=False, default="")


class PlanItemSerializer(serializers.Serializer):
    entitlement = serializers.IntegerField()
    system = serializers.IntegerField()
    external_id = serializers.CharField()
    action = serializers.CharField()
    scheduled_for = DateField()


class DeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = Delivery
        fields = [
            "entitlement", "system", "external_id", "action", "state", "attempts",
            "idempotency_key",
        ]  # fmt: skip


class RunSerializer(serializers.ModelSerializer):
    policy_version = serializers.CharField(source="policy.label")
    plan = serializers.SerializerMethodField()
    deliveries = DeliverySerializer(many=True)

    class Meta:
        model = DeprovisioningRun
        fields = ["id", "contract", "state", "policy_version", "plan", "deliveries"]

    def get_plan(self, run) -> list[dict]:
        from .selectors import run_plan

        return PlanItemSerializer(run_plan(run), many=True).data


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)


class TerminateSerializer(ReasonSerializer):
    effective_date = DateField(required=False)
    version = serializers.IntegerField(required=False, min_value=1)


class HoldCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DeprovisioningHold.Kind.choices)
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)


class FindingSerializer(serializers.Serializer):
    external_id = serializers.CharField()
    situation = serializers.CharField()
    kind = serializers.CharField()
    repaired = serializers.BooleanField()


class ReconciliationSerializer(serializers.Serializer):
    checked = serializers.IntegerField()
    drift = FindingSerializer(many=True, source="findings.all")
