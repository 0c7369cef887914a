"""Forms of the case page: a move with its reason, classification, calls and meetings, e-mails
from a template, and notices. The services judge; these only parse."""

from django import forms

from audit.limits import REASON_MAX_LENGTH
from licensing.validation import DateFormField

from .letters import TEMPLATES
from .models import Classification, Communication
from .services.cases import NOTES_MAX_LENGTH


def _reason(initial: str = "") -> forms.CharField:
    return forms.CharField(
        label="Why?", max_length=REASON_MAX_LENGTH, initial=initial,
        widget=forms.Textarea(attrs={"rows": 2}), help_text="Recorded on the timeline.",
    )  # fmt: skip


def _attachment() -> forms.FileField:
    from .services.communications import ATTACHMENT_HELP

    return forms.FileField(label="Attachment", required=False, help_text=ATTACHMENT_HELP)


class MoveForm(forms.Form):
    reason = _reason()
    option = forms.ChoiceField(label="Option agreed", required=False)

    def __init__(self, *args, options=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["option"].choices = [(o.kind, o.get_kind_display()) for o in options]


class ClassifyForm(forms.Form):
    classification = forms.ChoiceField(choices=Classification.choices, widget=forms.RadioSelect)
    rationale = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the facts show: tenure, earlier cases, how the over-use came about.",
    )


class LogForm(forms.Form):
    kind = forms.ChoiceField(
        label="What", choices=[(Communication.Kind.CALL, "Call"),
                               (Communication.Kind.MEETING, "Meeting")],
    )  # fmt: skip
    occurred_at = forms.DateTimeField(
        label="When", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )  # fmt: skip
    participants = forms.CharField(label="Who took part", max_length=500, required=False)
    subject = forms.CharField(label="About", max_length=300)
    # The API's limits (case_serializers.CommunicationInput), so a page takes no more.
    body = forms.CharField(label="What was said", max_length=20000,
                           widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    attachments = _attachment()
    reason = forms.CharField(widget=forms.HiddenInput, initial="Logged from the case page",
                             max_length=REASON_MAX_LENGTH)  # fmt: skip


class EmailForm(forms.Form):
    template = forms.ChoiceField(
        label="Template", choices=[(key, label) for key, (label, _fn) in TEMPLATES.items()
                                   if key != "milestone_reminder"],
    )  # fmt: skip
    note = forms.CharField(
        label="A paragraph of your own", required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip
    attachments = _attachment()
    reason = forms.CharField(widget=forms.HiddenInput, initial="Sent from the case page",
                             max_length=REASON_MAX_LENGTH)  # fmt: skip


class NoticeForm(forms.Form):
    kind = forms.ChoiceField(label="Notice")
    reason = forms.CharField(widget=forms.HiddenInput, initial="Issued from the case page",
                             max_length=REASON_MAX_LENGTH)  # fmt: skip

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = list(kinds)


class ReasonForm(forms.Form):
    """An action that needs nothing but its reason: drop, restore, complete, deprovision."""

    reason = _reason()


class OptionAdjustForm(forms.Form):
    amount = forms.DecimalField(label="License fees", max_digits=14, required=False)
    fees = forms.DecimalField(label="Other fees", max_digits=14, required=False,
                              help_text="Shown apart from the license fees.")  # fmt: skip
    deadline = DateFormField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    # The API's limit (case_serializers: an option's explanation).
    explanation = forms.CharField(
        label="What the customer reads", required=False, max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )  # fmt: skip
    reason = _reason()

    def __init__(self, *args, option=None, **kwargs):
        if option is not None:
            from licensing.money import round_money

            kwargs.setdefault("initial", {
                "amount": round_money(option.amount, option.currency),
                "fees": round_money(option.fees, option.currency), "deadline": option.deadline,
                "explanation": option.explanation,
            })  # fmt: skip
        super().__init__(*args, **kwargs)
        if option is not None and not option.has_deadline:
            del self.fields["deadline"]

    @staticmethod
    def changes(data: dict, option) -> dict:
        """Only what differs from the option as it stands: the service records each change."""
        return {
            name: value for name, value in data.items()
            if name != "reason" and value not in (None, "") and value != getattr(option, name)
        }  # fmt: skip


class MilestoneForm(forms.Form):
    title = forms.CharField(label="What is due", max_length=200)
    due_on = DateFormField(label="Due on", widget=forms.DateInput(attrs={"type": "date"}))
    our_contact = forms.TypedChoiceField(label="Who answers for us", coerce=int,
                                         required=False, empty_value=None)  # fmt: skip
    customer_contact_name = forms.CharField(
        label="The customer's contact", max_length=200, required=False,
        help_text="Left empty: the customer's first portal user, else its billing contact.",
    )  # fmt: skip
    customer_contact_email = forms.EmailField(label="Their e-mail", required=False)
    is_final = forms.BooleanField(
        label="Final deadline", required=False,
        help_text="Usage must be back within the entitlement by then.",
    )  # fmt: skip
    reason = _reason()

    def __init__(self, *args, managers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["our_contact"].choices = [("", "The case owner")] + [
            (user.pk, user.get_full_name() or user.get_username()) for user in managers
        ]


class AssignForm(forms.Form):
    owner = forms.TypedChoiceField(label="Owner", coerce=int)
    reason = _reason()

    def __init__(self, *args, managers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [
            (user.pk, user.get_full_name() or user.get_username()) for user in managers
        ]


class NoteForm(forms.Form):
    notes = forms.CharField(
        label="Staff notes", required=False, max_length=NOTES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Never shown to the customer. These replace the notes as they stand.",
    )  # fmt: skip
    reason = _reason("Staff notes updated")
