"""Forms of the finance pages. They parse input; the services decide what is allowed."""

from django import forms

from audit.limits import REASON_MAX_LENGTH
from licensing.roles import FINANCE_ROLES, Role
from licensing.validation import DateFormField

from .models import CreditForm, Intent
from .rules import DEFAULT_RULES, RulesError, parse_rules


class FocusFirstError:
    """A form sent back with errors puts the cursor (and the browser's view) on the first field
    in error, so a form at the foot of a long page is not answered off screen."""

    def add_error(self, field, error):
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                self.fields[name].widget.attrs["autofocus"] = True
                break


class CorrectedLines(FocusFirstError):
    """Per contract line of a credit, the input its requester or finance may correct: seats
    after a downgrade (and bundle units), or units used on a usage line. Blank keeps the
    frozen value; `corrections()` hands the service what changed, as the API takes it."""

    def add_line_fields(self, lines, *, intent: str | None = None, suffix: str = "") -> None:
        self.lines = []
        for line in lines:
            usage = line.basis == "usage"
            if not usage and (line.quantity_after is None or intent in ("pause", "terminate")):
                continue  # a pause or an ending releases the whole line: nothing to correct
            self.lines.append(line)
            what = "units used so far" if usage else f"{line.contract_line.plan.unit_label}s after"
            self.fields[self.line_field(line)] = forms.IntegerField(
                label=f"{line.contract_line.plan.name}: {what}{suffix}",
                min_value=0, required=False,
                initial=line.units_used if usage else line.quantity_after,
            )  # fmt: skip

    @staticmethod
    def line_field(line) -> str:
        return f"line_{line.contract_line_id}"

    def line_fields(self):
        return [self[self.line_field(line)] for line in self.lines]

    def place_error(self, error) -> None:
        """A service's refusal of the corrected inputs beside the input when there is one,
        above the form otherwise."""
        about_inputs = error.field in ("corrections", "quantity_after", "units_used")
        if about_inputs and len(self.lines) == 1:
            self.add_error(self.line_field(self.lines[0]), str(error))
        else:
            self.add_error(error.field if error.field in self.fields else None, str(error))

    def corrections(self) -> list[dict]:
        result = []
        for line in self.lines:
            value = self.cleaned_data.get(self.line_field(line))
            if value is None:
                continue
            key = "units_used" if line.basis == "usage" else "quantity_after"
            result.append({"contract_line": line.contract_line_id, key: value})
        return result


class DecisionForm(FocusFirstError, forms.Form):
    """Approve: the reason is optional, and recorded when given."""

    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        required=False,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Optional note for the trail"}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class ReasonedDecisionForm(DecisionForm):
    """Reject and send back: the requester and the trail need to know why. The services require
    the reason; their refusal is placed under this field (`add_to_form`), not repeated here."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The browser's hint stays; the rule itself is the services'.
        self.fields["reason"].widget.attrs.update(
            required=True, placeholder="Required: recorded in the approval trail"
        )


class StaffResubmitForm(CorrectedLines, DecisionForm):
    """A staff requester corrects a sent-back credit (its inputs, its form) and resubmits it."""

    credit_form = forms.ChoiceField(label="Credit form", required=False)

    def __init__(self, *args, allowed_forms=(), current: str = "", lines=(), intent=None,
                 **kwargs):  # fmt: skip
        super().__init__(*args, **kwargs)
        self.add_line_fields(lines, intent=intent)
        self.fields["reason"].required = True
        self.fields["reason"].label = "What was corrected"
        self.fields["reason"].error_messages["required"] = (
            "Say what was corrected: the approvers read it."
        )
        self.fields["credit_form"].choices = [
            (value, label) for value, label in CreditForm.choices if value in allowed_forms
        ]
        self.fields["credit_form"].initial = current


class DisputeResolveForm(CorrectedLines, forms.Form):
    OUTCOMES = [
        ("correction", "Uphold with a corrective credit, priced from the corrected inputs"),
        ("reversal", "Uphold by reversing the credit"),
        ("dismissed", "Reject: the credit stands"),
    ]
    outcome = forms.ChoiceField(
        choices=OUTCOMES,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether to uphold or reject the dispute."},
    )
    resolution = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "What was decided, and why"}),
        error_messages={"required": "Write the resolution: the customer is told what it says."},
    )

    def __init__(self, *args, lines=(), **kwargs):
        """`lines`: the disputed credit's change lines, each offering its corrected input."""
        super().__init__(*args, **kwargs)
        self.add_line_fields(lines, suffix=", corrected")


class ExchangeRateForm(forms.Form):
    currency = forms.CharField(max_length=3, help_text="The credit's currency, e.g. EUR.")
    base = forms.CharField(
        label="Converted into", max_length=3, help_text="The policy's currency, e.g. USD."
    )
    rate = forms.DecimalField(
        max_digits=20, decimal_places=10, help_text="What one unit of the currency is worth.",
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )  # fmt: skip
    valid_from = DateFormField(
        label="Valid from", widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Until a later rate for the pair takes over.",
    )  # fmt: skip


BASIS_LABELS = {"seat": "Seat lines", "usage": "Usage commitments", "bundle": "Bundles"}
TERMINATION_CHOICES = [
    ("prorate", "Prorate from the effective date"),
    ("period_end", "Credit only from the end of the current billing period"),
]
PAYOUT_CHOICES = [
    ("immediate", "At once"),
    ("declining", "As a declining discount over several periods"),
]
STEP_ROWS = 4
APPROVER_CHOICES = [("", "—")] + [(r.value, r.label) for r in Role if r in FINANCE_ROLES]

# A rules key from parse_rules, and the form field that shows its error.
RULE_FIELDS = {
    "eligible_intents": "eligible_intents",
    "eligible_bases": "eligible_bases",
    "minimum_credit": "minimum_credit",
    "termination": "termination",
    "prepaid_refundable_share": "prepaid_refundable_share",
    "allowed_forms": "allowed_forms",
    "downgrade_payout": "payout_periods",
    "step_deadline_hours": "step_deadline_hours",
    "reminder_after_hours": "reminder_after_hours",
    "escalate_to": "escalate_to",
    "dispute_days": "dispute_days",
    "base_currency": "base_currency",
}


# The form fields that make up the rules JSON (the step rows are added per row).
RULE_INPUTS = [*RULE_FIELDS.values(), "payout_mode"]


def _decimal_field(label: str, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label, help_text=help_text, max_digits=20, decimal_places=6,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )  # fmt: skip


def _whole_number(label: str, help_text: str = "") -> forms.IntegerField:
    # No min_value here: the rules parser says what is allowed, in one place.
    return forms.IntegerField(
        label=label, help_text=help_text, widget=forms.NumberInput(attrs={"class": "short"})
    )


class PolicyDraftForm(forms.Form):
    """A new policy version over the fields of the rules JSON, validated by `parse_rules`."""

    title = forms.CharField(max_length=200)
    effective_from = DateFormField(
        label="Takes effect on",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="After today: customers are told before a version takes effect.",
    )
    introduction = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="The plain-language summary customers read above the rules.",
    )
    change_summary = forms.CharField(
        label="What changes",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Shown in the changelog and in the e-mail to customers.",
    )
    eligible_intents = forms.MultipleChoiceField(
        label="Changes that earn a credit", choices=Intent.choices,
        widget=forms.CheckboxSelectMultiple, required=False,
    )  # fmt: skip
    eligible_bases = forms.MultipleChoiceField(
        label="Plan kinds that earn a credit", choices=list(BASIS_LABELS.items()),
        widget=forms.CheckboxSelectMultiple, required=False,
    )  # fmt: skip
    minimum_credit = _decimal_field(
        "Minimum credit", "In the contract's currency; a smaller total earns nothing."
    )
    termination = forms.ChoiceField(label="Termination", choices=TERMINATION_CHOICES)
    prepaid_refundable_share = _decimal_field(
        "Refundable share of prepaid future years", "From 0 (none) to 1 (all)."
    )
    allowed_forms = forms.MultipleChoiceField(
        label="Credit forms customers may choose", choices=CreditForm.choices,
        widget=forms.CheckboxSelectMultiple, required=False,
    )  # fmt: skip
    payout_mode = forms.ChoiceField(label="Downgrade credit paid", choices=PAYOUT_CHOICES)
    payout_periods = _whole_number("Over how many periods", "1 when paid at once.")
    step_deadline_hours = _whole_number("Hours to decide a step")
    reminder_after_hours = _whole_number("Remind the approver after (hours)")
    escalate_to = forms.ChoiceField(label="Escalate overdue steps to", choices=APPROVER_CHOICES[1:])
    dispute_days = _whole_number("Days to resolve a dispute")
    base_currency = forms.CharField(
        label="Currency of the thresholds", max_length=3, required=False,
        help_text="Credits in another currency are converted at finance's rate of their "
        "request date.",
    )  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for row in range(1, STEP_ROWS + 1):
            self.fields[f"step_{row}_role"] = forms.ChoiceField(
                label=f"Step {row} role", choices=APPROVER_CHOICES, required=False
            )
            self.fields[f"step_{row}_threshold"] = forms.DecimalField(
                label=f"Step {row} from amount", max_digits=20, decimal_places=6,
                required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            )  # fmt: skip
        self.rules: dict | None = None
        self.fields["change_summary"].error_messages["required"] = (
            "Say what changes: customers read it in the changelog and the e-mail."
        )

    @classmethod
    def initial_from(cls, policy) -> dict:
        """Start a draft from the latest version, so only what changes needs typing."""
        rules = {**DEFAULT_RULES, **(policy.rules if policy else {})}
        payout = rules["downgrade_payout"] or {}
        initial = {
            "title": policy.title if policy else "Credit policy",
            "introduction": policy.introduction if policy else "",
            **{key: rules[key] for key in RULE_FIELDS if key in rules},
            "payout_mode": payout.get("mode", "immediate"),
            "payout_periods": payout.get("periods", 1),
        }
        for row, step in enumerate(rules["approval_steps"] or [], start=1):
            initial[f"step_{row}_role"] = step.get("role", "")
            initial[f"step_{row}_threshold"] = step.get("threshold", "")
        return initial

    def step_rows(self):
        """(role field, threshold field) per row, for the template's table."""
        return [
            (self[f"step_{row}_role"], self[f"step_{row}_threshold"])
            for row in range(1, STEP_ROWS + 1)
        ]

    def clean(self):
        data = super().clean()
        # The rules are checked whenever their own fields parsed, so one pass shows every error.
        if any(name in self.errors for name in RULE_INPUTS) or self._step_errors():
            return data
        rules, rows = self._rules(data)
        if self._step_errors():
            return data
        try:
            parse_rules(rules)
        except RulesError as error:
            self._add_rule_errors(error.errors, rows)
            return data
        self.rules = rules
        return data

    def _step_errors(self) -> bool:
        return any(name.startswith("step_") and name[5].isdigit() for name in self.errors)

    def _rules(self, data) -> tuple[dict, list[int]]:
        steps, rows = [], []
        for row in range(1, STEP_ROWS + 1):
            role, threshold = data.get(f"step_{row}_role"), data.get(f"step_{row}_threshold")
            if not role and threshold is None:
                continue
            if role and threshold is None:
                self.add_error(f"step_{row}_threshold", "Give the amount this step starts at.")
            steps.append({"role": role or "", "threshold": str(threshold or 0)})
            rows.append(row)
        rules = {
            "eligible_intents": list(data["eligible_intents"]),
            "eligible_bases": list(data["eligible_bases"]),
            "minimum_credit": str(data["minimum_credit"]),
            "termination": data["termination"],
            "prepaid_refundable_share": str(data["prepaid_refundable_share"]),
            "allowed_forms": list(data["allowed_forms"]),
            "downgrade_payout": {"mode": data["payout_mode"], "periods": data["payout_periods"]},
            "approval_steps": steps,
            "step_deadline_hours": data["step_deadline_hours"],
            "reminder_after_hours": data["reminder_after_hours"],
            "escalate_to": data["escalate_to"],
            "dispute_days": data["dispute_days"],
            "base_currency": (data["base_currency"] or DEFAULT_RULES["base_currency"]).upper(),
        }
        return rules, rows

    def _add_rule_errors(self, errors: dict[str, str], rows: list[int]) -> None:
        for key, message in errors.items():
            if key in RULE_FIELDS:
                self.add_error(RULE_FIELDS[key], message)
            elif key.startswith("approval_steps."):
                _, index, part = key.split(".")
                self.add_error(f"step_{rows[int(index)]}_{part}", message)
            else:
                # Rules about the steps as a whole ("thresholds must rise") have no one field.
                self.add_error(None, f"Approval steps: {message}")
