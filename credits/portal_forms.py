"""Forms of the customer portal's credit pages: the change request, disputes, resubmission."""

from datetime import date

import django_filters
from django import forms
from django.core.validators import FileExtensionValidator

from audit.limits import REASON_MAX_LENGTH
from licensing.errors import DomainError
from licensing.models import Contract
from licensing.validation import DateFormField

from .forms import CorrectedLines, FocusFirstError
from .models import Credit, CreditForm, CreditPolicyVersion, Intent
from .rules import CreditRules
from .selectors import ChangeableLine, credit_policy_in_force, policy_rules
from .services import change_date_refusal
from .services.forms import (
    credit_form_refusal,
    deferral_targets,
    offered_forms,
    smaller_plans_by_line,
)

INTENT_HELP = {
    Intent.DOWNGRADE: "Keep the subscription with fewer seats, or release a usage commitment.",
    Intent.PAUSE: "Stop using everything for now: every line is released from the date.",
    Intent.TERMINATE: "End the contract: every line is released from the date.",
}
RELEASES_EVERYTHING = (Intent.PAUSE, Intent.TERMINATE)

ATTACHMENT_MAX_BYTES = 5 * 1024 * 1024
ATTACHMENT_EXTENSIONS = ["pdf", "png", "jpg", "jpeg"]
# What each accepted type starts with, so a renamed executable is not taken for a PDF.
ATTACHMENT_SIGNATURES = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
}


class CreditFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Credit.Status.choices, empty_label="Any status")

    class Meta:
        model = Credit
        fields = ["status"]


def _target_label(line) -> str:
    contract = line.contract
    return (
        f"{line.plan.name} on contract {contract.number} "
        f"({contract.term_start:%-d %b %Y} – {contract.term_end:%-d %b %Y})"
    )


def _plan_label(line, plan) -> str:
    return (
        f"{line.plan.name} → {plan.name} "
        f"({plan.currency} {plan.unit_price:,.2f} per {plan.unit_label})"
    )


class ChangeRequestForm(forms.Form):
    """One contract's change: intent, date, what each line becomes, the credit form.

    Line fields are named `line_<id>_quantity_after` (seat and bundle lines) and
    `line_<id>_units_used` (usage lines). For a downgrade a line left empty stays as it is;
    a pause or termination releases every line.
    """

    intent = forms.ChoiceField(
        widget=forms.RadioSelect,
        label="What do you want to do?",
        error_messages={"required": "Choose a downgrade, a pause or a termination."},
    )
    effective_date = DateFormField(
        label="From which day?",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The change takes effect at the start of this day.",
        error_messages={"required": "Choose the day the change takes effect."},
    )
    resume_date = DateFormField(
        label="Back from which day? (for a pause)",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="A pause stops every line from the day above until the start of this day.",
    )
    credit_form = forms.ChoiceField(
        widget=forms.RadioSelect,
        label="How would you like the credit?",
        error_messages={"required": "Choose how you would like to receive the credit."},
    )
    deferred_to = forms.ChoiceField(
        label="Which later subscription receives the value?",
        required=False,
        help_text="For a deferral: the value comes off this subscription's next invoice.",
    )
    plan_after = forms.ChoiceField(
        label="Which smaller plan do you move to?",
        required=False,
        help_text="For a move to a smaller plan: from the day the change takes effect.",
    )
    note = forms.CharField(
        label="Note for us (optional)",
        required=False,
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "e.g. The Berlin team moved"}),
    )

    def __init__(
        self, *args, contract: Contract, lines: list[ChangeableLine], rules: CreditRules,
        today: date, actor, **kwargs,
    ):  # fmt: skip
        super().__init__(*args, **kwargs)
        self.contract, self.lines, self.today, self.actor = contract, lines, today, actor
        self.fields["intent"].choices = [
            (value, label) for value, label in Intent.choices if value in rules.eligible_intents
        ]
        # Only forms that can be carried out for this contract are offered (the one rule);
        # the deferral targets and smaller plans are read once, for the rule and the lists.
        self.targets = list(deferral_targets(
            contract=contract, on=today, exclude=[line.contract_line.pk for line in lines]
        ))  # fmt: skip
        self.plans = smaller_plans_by_line(contract_lines=[line.contract_line for line in lines])
        self.fields["credit_form"].choices = offered_forms(
            allowed=rules.allowed_forms, contract=contract, intent=None, effective_date=today,
            targets=self.targets, plans=self.plans,
        )  # fmt: skip
        self.fields["deferred_to"].choices = [("", "—")] + [
            (str(line.pk), _target_label(line)) for line in self.targets
        ]
        self.fields["plan_after"].choices = [("", "—")] + [
            (f"{line.contract_line.pk}:{plan.pk}", _plan_label(line.contract_line, plan))
            for line in lines
            for plan in self.plans[line.contract_line.pk]
        ]
        self.fields["effective_date"].initial = today
        if len(self.fields["credit_form"].choices) == 1:
            self.fields["credit_form"].initial = self.fields["credit_form"].choices[0][0]
        for line in lines:
            name = self.line_field_name(line)
            if line.basis == "usage":
                self.fields[name] = forms.IntegerField(
                    label=f"Units used so far on {line.contract_line.plan.name}",
                    min_value=0,
                    required=False,
                )
            else:
                self.fields[name] = forms.IntegerField(
                    label=f"{line.contract_line.plan.name} after the change",
                    min_value=0,
                    required=False,
                )

    @staticmethod
    def line_field_name(line: ChangeableLine) -> str:
        field = "units_used" if line.basis == "usage" else "quantity_after"
        return f"line_{line.contract_line.pk}_{field}"

    def intent_options(self) -> list[tuple[forms.BoundField, str]]:
        return [(radio, INTENT_HELP[radio.data["value"]]) for radio in self["intent"]]

    def line_rows(self) -> list[tuple[ChangeableLine, forms.BoundField]]:
        return [(line, self[self.line_field_name(line)]) for line in self.lines]

    def clean_effective_date(self) -> date:
        value = self.cleaned_data["effective_date"]
        refusal = change_date_refusal(actor=self.actor, effective_date=value, today=self.today)
        if refusal:
            raise forms.ValidationError(refusal)
        if value < self.contract.term_start:
            raise forms.ValidationError(
                f"Your contract starts on {self.contract.term_start:%-d %B %Y}; choose that day "
                f"or later."
            )
        if value >= self.contract.term_end:
            raise forms.ValidationError(
                f"Your contract ends before then; choose a day before "
                f"{self.contract.term_end:%-d %B %Y}."
            )
        return value

    def clean(self):
        data = super().clean()
        intent, effective = data.get("intent"), data.get("effective_date")
        if intent and effective:
            self._check_policy(intent, data.get("credit_form"), effective)
        resume = data.get("resume_date")
        if intent == "pause" and effective and (resume is None or resume <= effective):
            self.add_error(
                "resume_date", "Choose the first day back, after the day the pause begins."
            )
        elif intent != "pause":
            data["resume_date"] = None
        if intent:
            self._check_lines(intent, data)
        if intent and effective and data.get("credit_form"):
            self._check_credit_form(intent, effective, data)
        return data

    def _check_credit_form(self, intent: str, effective: date, data: dict) -> None:
        form = data["credit_form"]
        refusal = credit_form_refusal(
            form=form, contract=self.contract, intent=intent, effective_date=effective,
            targets=self.targets, plans=self.plans,
        )  # fmt: skip
        if refusal:
            self.add_error("credit_form", refusal)
        elif form == CreditForm.DEFERRAL and not data.get("deferred_to"):
            self.add_error("deferred_to", "Choose the subscription that receives the value.")
        elif form == CreditForm.PLAN_CHANGE and not data.get("plan_after"):
            self.add_error("plan_after", "Choose the smaller plan to move to.")

    def deferred_to_id(self) -> int | None:
        if self.cleaned_data.get("credit_form") != CreditForm.DEFERRAL:
            return None
        return (
            int(self.cleaned_data["deferred_to"]) if self.cleaned_data.get("deferred_to") else None
        )

    def _plans_after(self) -> dict[int, int]:
        raw = self.cleaned_data.get("plan_after")
        if self.cleaned_data.get("credit_form") != CreditForm.PLAN_CHANGE or not raw:
            return {}
        line_id, plan_id = raw.split(":")
        return {int(line_id): int(plan_id)}

    def _check_policy(self, intent: str, credit_form: str | None, effective: date) -> None:
        # The policy in force on the effective date prices the change, and may differ from today's.
        try:
            policy = credit_policy_in_force(on=effective)
        except DomainError as error:
            self.add_error("effective_date", str(error))
            return
        rules = policy_rules(policy)
        when = f"On {effective:%-d %B %Y}, version {policy.number} of the credit policy"
        if intent not in rules.eligible_intents:
            self.add_error("intent", f"{when} gives no credit for a {intent}.")
        if credit_form and credit_form not in rules.allowed_forms:
            self.add_error("credit_form", f"{when} does not offer this form of credit.")

    def _check_lines(self, intent: str, data: dict) -> None:
        chosen = 0
        for line in self.lines:
            name = self.line_field_name(line)
            value = data.get(name)
            if intent in RELEASES_EVERYTHING:
                if line.basis == "usage" and value is None and name not in self.errors:
                    self.add_error(name, "Give the units used so far: this commitment ends too.")
                data[name] = value if line.basis == "usage" else None
                chosen += 1
                continue
            if value is None:
                continue
            if line.basis != "usage" and value >= line.quantity_now:
                self.add_error(
                    name,
                    f"You have {line.quantity_now:,} {line.contract_line.plan.unit_label}s now: "
                    f"enter fewer to downgrade, or leave it empty to keep this line as it is.",
                )
            chosen += 1
        if not chosen and not self.errors:
            raise forms.ValidationError(
                "Say what changes: enter the quantity after the change for at least one line."
            )

    def changes(self) -> list[dict]:
        """The lines in the shape `change_request_create` takes; only lines that change."""
        intent = self.cleaned_data["intent"]
        result = []
        for line in self.lines:
            value = self.cleaned_data.get(self.line_field_name(line))
            if value is None and intent not in RELEASES_EVERYTHING:
                continue
            change = {"contract_line": line.contract_line.pk}
            if line.basis == "usage":
                change["units_used"] = value
            elif intent not in RELEASES_EVERYTHING:
                change["quantity_after"] = value
            if line.contract_line.pk in self._plans_after():
                change["plan_after"] = self._plans_after()[line.contract_line.pk]
            result.append(change)
        return result


class DisputeForm(FocusFirstError, forms.Form):
    reason = forms.CharField(
        label="Why do you dispute this credit?",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "e.g. We released the seats on 2 March, not 16 March."}
        ),
        error_messages={"required": "Tell us why: finance answers the reason you give."},
    )
    attachment = forms.FileField(
        label="Supporting document (optional)",
        required=False,
        help_text="PDF, PNG or JPG, up to 5 MB.",
        validators=[FileExtensionValidator(ATTACHMENT_EXTENSIONS)],
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg"}),
    )

    def clean_attachment(self):
        upload = self.cleaned_data.get("attachment")
        if not upload:
            return None
        if upload.size > ATTACHMENT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is 5 MB."
            )
        extension = upload.name.rsplit(".", 1)[-1].lower()
        head = upload.read(16)
        upload.seek(0)
        if not head.startswith(ATTACHMENT_SIGNATURES.get(extension, ())):
            raise forms.ValidationError(
                f"This file is not a real {extension.upper()}; attach a PDF, PNG or JPG."
            )
        return upload


class ResubmitForm(CorrectedLines, forms.Form):
    reason = forms.CharField(
        label="What did you change, or why should we look again?",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Give a reason: finance reads it with your request."},
    )
    credit_form = forms.ChoiceField(label="How would you like the credit?", required=False)

    def __init__(self, *args, policy: CreditPolicyVersion, current: str, lines=(), intent=None,
                 **kwargs):  # fmt: skip
        super().__init__(*args, **kwargs)
        self.add_line_fields(lines, intent=intent)
        allowed = policy_rules(policy).allowed_forms
        field = self.fields["credit_form"]
        field.choices = [(v, label) for v, label in CreditForm.choices if v in allowed]
        field.initial = current


class WithdrawForm(FocusFirstError, forms.Form):
    reason = forms.CharField(
        label="Why do you withdraw it?",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Give a reason: finance reads it."},
    )
