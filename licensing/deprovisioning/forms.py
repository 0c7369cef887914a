"""Deprovisioning's page forms: they parse; the services decide."""

from django import forms

from audit.limits import REASON_MAX_LENGTH

from ..models import Entitlement
from ..validation import DateFormField
from .models import DeprovisioningHold

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _reason(placeholder: str, label: str = "Why?") -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=REASON_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": placeholder}),
        error_messages={"required": "Give a reason: every change records why it was made."},
    )


class ReasonForm(forms.Form):
    reason = _reason("e.g. Confirmed with the customer's IT team")


class TerminateForm(forms.Form):
    reason = _reason("e.g. Customer terminated for convenience, letter of 2 March")
    effective_date = DateFormField(
        widget=DATE, help_text="Today, or a later date: nothing stops before it."
    )
    # The date whose plan the person was shown: confirming any other date shows its plan first.
    planned_for = forms.DateField(widget=forms.HiddenInput, required=False)


class HoldForm(forms.Form):
    kind = forms.ChoiceField(label="Kind of hold", choices=DeprovisioningHold.Kind.choices)
    reason = _reason("e.g. Litigation hold requested by legal, matter 2026-114")


class BlackoutForm(forms.Form):
    starts_on = DateFormField(widget=DATE, label="First day")
    ends_on = DateFormField(
        widget=DATE, label="Work may resume on", help_text="The first day work may happen again."
    )
    reason = _reason("e.g. Customer's year-end freeze")


# One choice per position of the revocation order, first to last, by the kinds' names.
POSITIONS = ("First", "Second", "Third", "Fourth", "Fifth")
UNNAMED = ("", "Not named: revoked after the named ones")


def _position_field(index: int) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=POSITIONS[index], required=False,
        choices=[UNNAMED, *Entitlement.Kind.choices],
        error_messages={"invalid_choice": "Choose a kind of entitlement from the list."},
    )  # fmt: skip


class PolicyDraftForm(forms.Form):
    """A new revocation policy version: its rules, its effective date and its changelog entry."""

    summary = forms.CharField(
        label="What changes (changelog)",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say what changes: the summary is the changelog entry."},
    )
    effective_from = DateFormField(widget=DATE, label="Takes effect on")
    notice_lead_days = forms.IntegerField(
        min_value=0, max_value=90, label="Notice lead days",
        help_text="Days between the notice and execution.",
    )  # fmt: skip
    max_grace_days = forms.IntegerField(
        min_value=0, max_value=365, label="Longest grace",
        help_text="Grace applies only where a contract grants it, never longer than this.",
    )  # fmt: skip
    max_attempts = forms.IntegerField(
        min_value=1, max_value=20, label="Attempts per delivery",
        help_text="Tries before a delivery escalates to a person.",
    )  # fmt: skip
    nonpayment_days_after_due = forms.IntegerField(
        min_value=1, max_value=365, label="Nonpayment trigger (days after due)"
    )
    delete_at_identity_providers = forms.BooleanField(
        required=False, label="Delete users at identity providers (rather than deactivate)"
    )
    suppress_renewal = forms.BooleanField(required=False, label="Stop renewal at once")
    revoke_1, revoke_2, revoke_3, revoke_4, revoke_5 = (
        _position_field(i) for i in range(len(POSITIONS))
    )
    reason = _reason("e.g. Legal asks for 14 days' notice", label="Why this draft?")

    RULES = ("notice_lead_days", "max_grace_days", "max_attempts", "nonpayment_days_after_due",
             "delete_at_identity_providers", "suppress_renewal")  # fmt: skip

    @classmethod
    def initial_from(cls, policy) -> dict:
        rules = policy.rules
        initial = {name: rules.get(name) for name in cls.RULES}
        order = list(rules.get("revoke_order", []))
        for name, kind in zip(cls.ORDER_FIELDS, order, strict=False):
            initial[name] = kind
        return initial

    ORDER_FIELDS = tuple(f"revoke_{i}" for i in range(1, len(POSITIONS) + 1))

    @property
    def revoke_order_fields(self) -> list:
        """The positions of the revocation order, first to last, for the template."""
        return [self[name] for name in self.ORDER_FIELDS]

    def clean(self) -> dict:
        data = super().clean()
        order: list[str] = []
        chosen_at: dict[str, str] = {}
        for name, position in zip(self.ORDER_FIELDS, POSITIONS, strict=True):
            kind = data.get(name)
            if not kind:
                continue
            if kind in chosen_at:
                label = Entitlement.Kind(kind).label
                self.add_error(name, f"{label} is already chosen {chosen_at[kind].lower()}: "
                                     "choose each kind once.")  # fmt: skip
                continue
            chosen_at[kind] = position
            order.append(kind)
        data["revoke_order"] = order
        return data

    def rules(self, base: dict) -> dict:
        """The draft's rules: the version it starts from, with what the form changed."""
        data = self.cleaned_data
        return {**base, **{name: data[name] for name in self.RULES},
                "revoke_order": data["revoke_order"]}  # fmt: skip
