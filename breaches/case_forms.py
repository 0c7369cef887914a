"""Forms of the case page: a move with its reason, classification, calls and meetings, e-mails
from a template, and notices. The services judge; these only parse."""

from django import forms

from audit.limits import REASON_MAX_LENGTH

from .letters import TEMPLATES
from .models import Classification, Communication


def _reason(initial: str = "") -> forms.CharField:
    return forms.CharField(
        label="Why?", max_length=REASON_MAX_LENGTH, initial=initial,
        widget=forms.Textarea(attrs={"rows": 2}), help_text="Recorded on the timeline.",
    )  # fmt: skip


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
    reason = forms.CharField(widget=forms.HiddenInput, initial="Sent from the case page",
                             max_length=REASON_MAX_LENGTH)  # fmt: skip


class NoticeForm(forms.Form):
    kind = forms.ChoiceField(label="Notice")
    reason = forms.CharField(widget=forms.HiddenInput, initial="Issued from the case page",
                             max_length=REASON_MAX_LENGTH)  # fmt: skip

    def __init__(self, *args, kinds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = list(kinds)
