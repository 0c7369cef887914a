"""What the case API reads and writes: one serializer per audience.

Staff read everything (classification, rationale, staff notes, who did what and why).
Customers read their own case through `CustomerBreachCaseOutput`: no staff names, notes,
reasons or classification, only the timeline entries meant for them, options once offered.
Amounts are strings with exactly the currency's minor digits.
"""

from __future__ import annotations

from rest_framework import serializers

from audit.limits import REASON_MAX_LENGTH
from audit.personal import MaskPersonalData, personal_email_field
from licensing.money import round_money
from licensing.validation import DateField

from . import selectors
from .models import BreachCase, Classification, Communication, RemediationOption


def _name(user) -> str | None:
    return (user.get_full_name() or user.get_username()) if user is not None else None


def _money(amount, currency) -> str:
    return str(round_money(amount, currency))


class EvidenceOutput(serializers.Serializer):
    quantity = serializers.IntegerField(help_text="The entitled quantity")
    peak = serializers.IntegerField(help_text="The highest figure of the run that opened the case")
    first_day_over = serializers.CharField(help_text="ISO date: the first day of that run")
    days_over = serializers.IntegerField(help_text="That run's length in days")
    # Present in what detection takes; skipped where an older snapshot lacks them.
    metric = serializers.CharField(required=False)
    daily = serializers.ListField(
        child=serializers.DictField(), help_text="[{day, quantity}]", required=False
    )


class StaffEvidenceOutput(EvidenceOutput):
    tolerance = serializers.CharField(required=False)
    consecutive_days = serializers.IntegerField(required=False)
    runs = serializers.ListField(child=serializers.DictField(), required=False)
    entitlement = serializers.DictField(help_text="The entitlement as it stood", required=False)


class OptionOutput(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    amount = serializers.CharField(help_text="License fees")
    currency = serializers.CharField()
    explanation = serializers.CharField()
    fees = serializers.CharField(help_text="Fees or penalties, apart from license fees")
    fees_explanation = serializers.CharField()
    deadline = serializers.DateField(allow_null=True)

    def to_representation(self, option: RemediationOption) -> dict:
        return {
            "kind": option.kind, "label": option.get_kind_display(),
            "amount": _money(option.amount, option.currency), "currency": option.currency,
            "explanation": option.explanation, "fees": _money(option.fees, option.currency),
            "fees_explanation": option.fees_explanation,
            "deadline": option.deadline.isoformat() if option.deadline else None,
        }  # fmt: skip


class StaffOptionOutput(OptionOutput):
    id = serializers.IntegerField()
    offered = serializers.BooleanField(help_text="False once dropped from the offer")
    priced_amount = serializers.CharField(help_text="What the engine priced")
    adjusted = serializers.BooleanField()
    details = serializers.DictField()

    def to_representation(self, option: RemediationOption) -> dict:
        return {
            **super().to_representation(option), "id": option.pk,
            "offered": option.dropped_at is None,
            "priced_amount": _money(option.priced_amount, option.currency),
            "adjusted": option.adjusted_by_id is not None, "details": option.details,
        }  # fmt: skip


class EarlierOveruseOutput(serializers.Serializer):
    id = serializers.IntegerField()
    period_start = serializers.DateField()
    period_end = serializers.DateField(help_text="Exclusive")
    first_day_over = serializers.DateField()
    quantity = serializers.IntegerField()
    peak = serializers.IntegerField()
    amount = serializers.SerializerMethodField()
    currency = serializers.CharField()
    explanation = serializers.CharField()
    decision = serializers.CharField(help_text="Empty until included or waived")

    def get_amount(self, item) -> str:
        return _money(item.amount, item.currency)


class MilestoneOutput(MaskPersonalData, serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    due_on = serializers.DateField()
    is_final = serializers.BooleanField()
    our_contact = serializers.SerializerMethodField()
    customer_contact_name = serializers.CharField()
    # A plain string: masked for a reader without the permission, no longer an address.
    customer_contact_email = personal_email_field()
    done_on = serializers.DateField(allow_null=True)

    class Meta:
        personal_fields = ["customer_contact_name", "customer_contact_email"]

    def get_our_contact(self, milestone) -> str:
        return _name(milestone.our_contact)


class TimelineOutput(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    action = serializers.CharField()
    summary = serializers.SerializerMethodField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    communication = serializers.IntegerField(source="communication_id", allow_null=True)

    def get_summary(self, entry) -> str:
        return entry.line_for(getattr(self.context.get("request"), "user", None))


class StaffTimelineOutput(TimelineOutput):
    actor = serializers.SerializerMethodField()
    reason = serializers.CharField()
    data = serializers.DictField()

    def get_actor(self, entry) -> str | None:
        return _name(entry.actor)


class AttachmentOutput(serializers.Serializer):
    id = serializers.IntegerField()
    filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()


class CommunicationOutput(MaskPersonalData, serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    template = serializers.CharField()
    subject = serializers.CharField()
    body = serializers.CharField()
    recipients = serializers.ListField(child=serializers.CharField())
    participants = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    logged_by = serializers.SerializerMethodField()
    staff_note = serializers.CharField()
    attachments = AttachmentOutput(many=True)

    class Meta:
        personal_fields = ["subject", "body", "recipients", "participants", "staff_note"]

    def get_logged_by(self, entry) -> str:
        return _name(entry.logged_by)


class _CaseBase(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField()
    state_label = serializers.CharField(source="get_state_display")
    entitlement = serializers.IntegerField(source="entitlement_id")
    entitlement_name = serializers.CharField(source="entitlement.name")
    contract = serializers.CharField(source="entitlement.contract.number")
    metric = serializers.CharField()
    detected_on = serializers.DateField()
    agreed_option = serializers.SerializerMethodField()
    agreed_on = serializers.DateField(allow_null=True)
    milestones = MilestoneOutput(many=True)

    def get_agreed_option(self, case) -> str | None:
        return case.agreed_option.kind if case.agreed_option_id else None


class BreachCaseOutput(MaskPersonalData, _CaseBase):
    """What staff read; notes, contacts and what was said masked for roles that may not read
    personal data (audit.personal)."""

    class Meta:
        personal_fields = ["staff_notes"]

    customer = serializers.CharField(source="entitlement.contract.customer.name")
    severity = serializers.CharField()
    classification = serializers.CharField()
    classification_rationale = serializers.CharField()
    classified_by = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField()
    policy = serializers.CharField(source="policy.label")
    evidence = StaffEvidenceOutput()
    options = StaffOptionOutput(many=True)
    earlier_overuse = EarlierOveruseOutput(many=True)
    timeline = serializers.SerializerMethodField()
    communications = CommunicationOutput(many=True)
    close_requested_to = serializers.CharField()
    deprovision_requested = serializers.SerializerMethodField()
    staff_notes = serializers.CharField()
    allowed_transitions = serializers.SerializerMethodField()

    def get_classified_by(self, case) -> str | None:
        return _name(case.classified_by)

    def get_owner(self, case) -> str | None:
        return _name(case.owner)

    def get_deprovision_requested(self, case) -> bool:
        return case.deprovision_requested_at is not None

    def get_timeline(self, case) -> list[dict]:
        return StaffTimelineOutput(
            selectors.case_timeline(case), many=True, context=self.context
        ).data

    def get_allowed_transitions(self, case) -> list[str]:
        from .services import allowed_transitions

        request = self.context.get("request")
        return allowed_transitions(request.user, case) if request else []


class CustomerBreachCaseOutput(_CaseBase):
    """What a customer reads of its own case."""

    evidence = EvidenceOutput()
    options = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()

    def get_options(self, case) -> list[dict]:
        if case.state in (BreachCase.State.DETECTED, BreachCase.State.UNDER_REVIEW,
                          BreachCase.State.CONFIRMED):  # fmt: skip
            return []
        return OptionOutput(selectors.offered_options(case), many=True).data

    def get_timeline(self, case) -> list[dict]:
        return TimelineOutput(
            selectors.case_timeline(case, customer_view=True), many=True, context=self.context
        ).data


# Input


class TransitionInput(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)
    option = serializers.ChoiceField(
        choices=RemediationOption.Kind.choices, required=False,
        help_text="For agree: the kind of the option agreed to",
    )  # fmt: skip


class CustomerAgreeInput(serializers.Serializer):
    option = serializers.ChoiceField(choices=RemediationOption.Kind.choices)
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH, required=False,
                                   default="Agreed in the portal")  # fmt: skip


class ClassifyInput(serializers.Serializer):
    classification = serializers.ChoiceField(choices=Classification.choices)
    rationale = serializers.CharField(max_length=REASON_MAX_LENGTH)


class OptionChangeInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=["adjust", "drop", "restore"], default="adjust")
    amount = serializers.DecimalField(max_digits=20, decimal_places=6, required=False,
                                      min_value=0)  # fmt: skip
    fees = serializers.DecimalField(max_digits=20, decimal_places=6, required=False, min_value=0)
    deadline = DateField(required=False)
    explanation = serializers.CharField(required=False, max_length=2000)
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)


class EarlierDecisionInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["included", "waived"])
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)


class MilestoneInput(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    due_on = DateField()
    is_final = serializers.BooleanField(default=False)
    our_contact = serializers.IntegerField(required=False, help_text="An account manager's id")
    customer_contact_name = serializers.CharField(max_length=200, required=False, default="")
    customer_contact_email = serializers.EmailField(required=False, default="")
    remind_days = serializers.IntegerField(min_value=0, max_value=60, required=False)
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)


class CommunicationInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Communication.Kind.choices)
    template = serializers.CharField(required=False, max_length=60, help_text="For an e-mail")
    to = serializers.ListField(child=serializers.EmailField(), required=False)
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=4000)
    subject = serializers.CharField(required=False, max_length=300)
    body = serializers.CharField(required=False, max_length=20000)
    participants = serializers.CharField(required=False, default="", allow_blank=True,
                                         max_length=500)  # fmt: skip
    occurred_at = serializers.DateTimeField(required=False)
    staff_note = serializers.CharField(required=False, default="", allow_blank=True,
                                       max_length=4000)  # fmt: skip
    attachments = serializers.ListField(child=serializers.FileField(), required=False)
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)

    def validate(self, attrs):
        if attrs["kind"] == Communication.Kind.EMAIL and not attrs.get("template"):
            raise serializers.ValidationError({"template": ["Choose the e-mail's template."]})
        if attrs["kind"] != Communication.Kind.EMAIL:
            missing = {f: ["This field is required."] for f in ("subject", "body", "occurred_at")
                       if not attrs.get(f)}  # fmt: skip
            if missing:
                raise serializers.ValidationError(missing)
        return attrs


class DetectOutput(serializers.Serializer):
    opened = serializers.ListField(child=serializers.IntegerField())
    updated = serializers.ListField(child=serializers.IntegerField())


class UsageWarningOutput(serializers.Serializer):
    id = serializers.IntegerField()
    entitlement = serializers.IntegerField(source="entitlement_id")
    entitlement_name = serializers.CharField(source="entitlement.name")
    metric = serializers.CharField()
    threshold = serializers.IntegerField(help_text="Percent of the entitled quantity")
    day = serializers.DateField()
    figure = serializers.IntegerField()
    quantity = serializers.IntegerField()
    dismissed = serializers.SerializerMethodField()

    def get_dismissed(self, warning) -> bool:
        return warning.dismissed_at is not None
