from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model

from .history import scope_model
from .limits import DATE_MAX, DATE_MIN
from .models import ExportJob
from .timeline import (
    HISTORY_ACTIONS,
    TimelineFilter,
    action_choice_label,
    distinct_event_values,
    object_type_choices,
    policy_label,
)


def _date_in_range(value) -> None:
    if value is not None and not DATE_MIN <= value <= DATE_MAX:
        raise forms.ValidationError(
            f"Give a date between {DATE_MIN.isoformat()} and {DATE_MAX.isoformat()}.",
            code="date_range",
        )


class _Named(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        full = obj.get_full_name() if hasattr(obj, "get_full_name") else ""
        return f"{full} ({obj.get_username()})" if full else str(obj)


class TimelineFilterForm(forms.Form):
    """The timeline's filters; the same fields ride along on the export buttons."""

    label_suffix = ""

    period_start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"}),
        validators=[_date_in_range],
    )  # fmt: skip
    period_end = forms.DateField(
        label="To (inclusive)", required=False, widget=forms.DateInput(attrs={"type": "date"}),
        validators=[_date_in_range],
    )  # fmt: skip
    actor = _Named(label="Who", queryset=get_user_model().objects.none(), required=False,
                   empty_label="Anyone")  # fmt: skip
    customer = forms.ModelChoiceField(label="Customer", queryset=None, required=False,
                                      empty_label="Any customer")  # fmt: skip
    contract = forms.ModelChoiceField(label="Contract", queryset=None, required=False,
                                      empty_label="Any contract")  # fmt: skip
    object_type = forms.ChoiceField(label="Kind of record", required=False)
    object_id = forms.CharField(label="Record id", required=False, max_length=64)
    policy_version = forms.ChoiceField(label="Policy version", required=False)
    action = forms.ChoiceField(label="Action", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        users = get_user_model().objects.order_by("first_name", "last_name", "username")
        self.fields["actor"].queryset = users
        for scope in ("customer", "contract"):
            model = scope_model(scope)
            field = self.fields[scope]
            field.queryset = model.objects.order_by(*model._meta.ordering or ["pk"])
            if scope == "contract" and hasattr(model, "customer"):
                field.queryset = field.queryset.select_related("customer")
                field.label_from_instance = lambda c: f"{c} · {c.customer}"
        self.fields["object_type"].choices = [("", "Any"), *object_type_choices()]
        self.fields["policy_version"].choices = [
            ("", "Any"), *((v, policy_label(v)) for v in distinct_event_values("policy_version"))
        ]  # fmt: skip
        history = [(name, f"{name.capitalize()} (history rows)") for name in HISTORY_ACTIONS]
        events = [(a, action_choice_label(a)) for a in distinct_event_values("action")]
        self.fields["action"].choices = [("", "Any"), ("History", history), ("Events", events)]

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", "The period ends before it starts.")
        return data

    def timeline_filter(self) -> TimelineFilter:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        end = data.get("period_end")
        return TimelineFilter(
            period_start=data.get("period_start"),
            period_end=end + timedelta(days=1) if end else None,
            actor=data["actor"].pk if data.get("actor") else None,
            customer=data["customer"].pk if data.get("customer") else None,
            contract=data["contract"].pk if data.get("contract") else None,
            object_type=data.get("object_type") or "",
            object_id=(data.get("object_id") or "").strip(),
            policy_version=data.get("policy_version") or "",
            action=data.get("action") or "",
        )


class ExportForm(forms.Form):
    format = forms.ChoiceField(choices=ExportJob.Format.choices)
