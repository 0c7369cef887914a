from django import forms

from audit.limits import REASON_MAX_LENGTH

from .services import CONTRACT_TRANSITIONS, ENTITLEMENT_TRANSITIONS, TRANSITION_LABELS


class TransitionForm(forms.Form):
    transition = forms.ChoiceField(choices=[])
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "e.g. Invoice overdue by 30 days"}),
        error_messages={"required": "Give a reason: every change records why it was made."},
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    next = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, names: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["transition"].choices = [(n, TRANSITION_LABELS[n]) for n in names]


def contract_transition_form(*args, **kwargs) -> TransitionForm:
    return TransitionForm(*args, names=CONTRACT_TRANSITIONS, **kwargs)


def entitlement_transition_form(*args, **kwargs) -> TransitionForm:
    return TransitionForm(*args, names=ENTITLEMENT_TRANSITIONS, **kwargs)
