from datetime import timedelta

from django import forms
from django.contrib.auth import get_user_model

from .history import scope_model
from .limits import DATE_MAX, DATE_MIN, REASON_MAX_LENGTH
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


# Retention policy drafts --------------------------------------------------------------------

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# Override rows a draft offers below the ones the policy in force already has.
SPARE_ROWS = 2
# More rows than this in a post are not read (nobody names 200 kinds of record one by one).
MAX_ROWS = 60


def _keep_days(label: str, *, required: bool = True, help_text: str = "") -> forms.IntegerField:
    from .retention import MAX_DAYS, MIN_DAYS

    return forms.IntegerField(
        label=label, required=required, min_value=MIN_DAYS, max_value=MAX_DAYS,
        help_text=help_text, widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "min_value": f"Keep at least {MIN_DAYS} days.",
            "max_value": f"Keep at most {MAX_DAYS} days (100 years).",
            "invalid": "Give a whole number of days.",
            "required": "Say how many days records of this kind are kept.",
        },
    )  # fmt: skip


def _rows_in(data, prefix: str) -> int:
    """How many override rows a post carries (the page may have offered more than usual)."""
    if data is None:
        return 0
    found = [k for k in data if k.startswith(f"{prefix}_") and k.rpartition("_")[2].isdigit()]
    numbers = {int(k.rpartition("_")[2]) for k in found}
    return min(max(numbers, default=0), MAX_ROWS)


class RetentionDraftForm(forms.Form):
    """A new retention policy version: days per kind of record, overrides per kind of record
    (chosen by name), an effective date and a changelog entry. Builds the policy's rules."""

    label_suffix = ""

    summary = forms.CharField(
        label="What changes (changelog)", max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say what changes: the summary is the changelog entry."},
    )  # fmt: skip
    effective_from = forms.DateField(
        label="Takes effect on", widget=DATE, validators=[_date_in_range],
        help_text="Today or later: the purge follows this version from that day.",
        error_messages={"required": "Give the day this version takes effect."},
    )  # fmt: skip
    event_days = _keep_days(
        "Audit events: redact after (days)",
        help_text="Personal content is blanked; the event's hashes stay, so the log verifies.",
    )
    verification_days = _keep_days(
        "Chain verification results: delete after (days)",
        help_text="The latest result always stays.",
    )
    history_days = _keep_days(
        "Change history rows: delete after (days)",
        help_text="The newest row of a record that still exists always stays; legal holds keep "
        "a contract's history.",
    )
    reason = forms.CharField(
        label="Why this draft?", max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "e.g. Legal asks for ten years"}),
        error_messages={"required": "Give a reason: every change records why it was made."},
    )  # fmt: skip

    # (prefix, rule kind, key of the overrides in the rules, label of the choice)
    OVERRIDES = (
        ("event", "audit.event", "by_object_type", "Events about"),
        ("history", "history", "by_model", "History of"),
    )

    def __init__(self, *args, base_rules: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        from .retention_history import history_labels
        from .timeline import object_type_choices

        base_rules = base_rules or {}
        choices = {"event": dict(object_type_choices()), "history": history_labels()}
        self.override_rows: dict[str, list[tuple]] = {}
        for prefix, kind, key, label in self.OVERRIDES:
            current = (base_rules.get(kind) or {}).get(key, {})
            named = choices[prefix]
            for code in current:  # a type the policy names that no table lists now
                named.setdefault(code, code)
            options = [("", "— choose —"),
                       *sorted(((c, n[:1].upper() + n[1:]) for c, n in named.items()),
                               key=lambda option: option[1])]  # fmt: skip
            count = max(len(current) + SPARE_ROWS, _rows_in(self.data if self.is_bound else None,
                                                            prefix))  # fmt: skip
            rows = []
            for i, (code, days) in enumerate([*current.items(), *[("", None)] * count][:count]):
                what, keep = f"{prefix}_type_{i + 1}", f"{prefix}_days_{i + 1}"
                self.fields[what] = forms.ChoiceField(label=label, choices=options,
                                                      required=False)  # fmt: skip
                self.fields[keep] = _keep_days("Keep (days)", required=False)
                if not self.is_bound:
                    self.initial[what], self.initial[keep] = code, days
                rows.append((what, keep))
            self.override_rows[prefix] = rows

    @classmethod
    def initial_from(cls, rules: dict) -> dict:
        history = rules.get("history") or {}
        return {
            "event_days": rules["audit.event"]["keep_days"],
            "verification_days": rules["audit.verification"]["keep_days"],
            # A policy without the rule (v1) kept history for ever: propose the events' period.
            "history_days": history.get("keep_days", rules["audit.event"]["keep_days"]),
        }

    def overrides(self, prefix: str) -> list[tuple]:
        """(choice field, days field) bound pairs for the template."""
        return [(self[what], self[keep]) for what, keep in self.override_rows[prefix]]

    def event_overrides(self):
        return self.overrides("event")

    def history_overrides(self):
        return self.overrides("history")

    def clean(self) -> dict:
        data = super().clean()
        for prefix, *_ in self.OVERRIDES:
            seen: set[str] = set()
            for what, keep in self.override_rows[prefix]:
                code, days = data.get(what), data.get(keep)
                if code and days is None and keep not in self.errors:
                    self.add_error(keep, "Say how many days, or clear the row.")
                elif days is not None and not code:
                    self.add_error(what, "Choose the kind of record these days are for.")
                elif code and code in seen:
                    self.add_error(what, "This kind of record already has a row above.")
                seen.add(code or "")
        return data

    def rules(self) -> dict:
        data = self.cleaned_data

        def picked(prefix: str) -> dict[str, int]:
            return {data[what]: data[keep] for what, keep in self.override_rows[prefix]
                    if data.get(what) and data.get(keep) is not None}  # fmt: skip

        return {
            "audit.event": {"keep_days": data["event_days"], "then": "redact",
                            "by_object_type": picked("event")},
            "audit.verification": {"keep_days": data["verification_days"], "then": "delete"},
            "history": {"keep_days": data["history_days"], "then": "delete",
                        "by_model": picked("history")},
        }  # fmt: skip


class RetentionPublishForm(forms.Form):
    reason = forms.CharField(
        label="Why publish?", max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "e.g. Reviewed with legal"}),
        error_messages={"required": "Give a reason: every change records why it was made."},
    )  # fmt: skip
