from rest_framework import serializers


class ExportQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=["jsonl", "csv"], default="jsonl")
    period_start = serializers.DateField(required=False, help_text="first day, inclusive")
    period_end = serializers.DateField(required=False, help_text="day after the last, exclusive")
    actor = serializers.CharField(required=False, help_text="username, exact")
    object_type = serializers.CharField(required=False)
    object_id = serializers.CharField(required=False)
    action = serializers.CharField(required=False)
    policy_version = serializers.CharField(required=False)
    seq_from = serializers.IntegerField(required=False, min_value=1)
    seq_to = serializers.IntegerField(required=False, min_value=1)

    def validate(self, attrs):
        start, end = attrs.get("period_start"), attrs.get("period_end")
        if start and end and end <= start:
            raise serializers.ValidationError({"period_end": "must be after period_start"})
        return attrs


class TreeHeadQuerySerializer(serializers.Serializer):
    tree_size = serializers.IntegerField(required=False, min_value=0)


class TreeHeadSerializer(serializers.Serializer):
    tree_size = serializers.IntegerField()
    root_hash = serializers.CharField(help_text="MTH of the first tree_size events, lowercase hex")
    signature = serializers.CharField(
        help_text="base64 Ed25519 signature of licensedesk-tree-head:{tree_size}:{root_hash}"
    )
    public_key = serializers.CharField(help_text="base64 of the raw 32-byte Ed25519 public key")
    signed_at = serializers.DateTimeField()


class InclusionQuerySerializer(serializers.Serializer):
    seq = serializers.IntegerField(min_value=1)
    tree_size = serializers.IntegerField(min_value=1)

    def validate(self, attrs):
        if attrs["seq"] > attrs["tree_size"]:
            raise serializers.ValidationError({"seq": "must not exceed tree_size"})
        return attrs


class InclusionProofSerializer(serializers.Serializer):
    leaf_index = serializers.IntegerField(help_text="seq - 1")
    tree_size = serializers.IntegerField()
    audit_path = serializers.ListField(child=serializers.CharField(), help_text="hex, RFC 9162")


class ConsistencyQuerySerializer(serializers.Serializer):
    first = serializers.IntegerField(min_value=1)
    second = serializers.IntegerField(min_value=1)

    def validate(self, attrs):
        if attrs["first"] > attrs["second"]:
            raise serializers.ValidationError({"first": "must not exceed second"})
        return attrs


class ConsistencyProofSerializer(serializers.Serializer):
    first = serializers.IntegerField()
    second = serializers.IntegerField()
    proof = serializers.ListField(child=serializers.CharField(), help_text="hex, RFC 9162")
