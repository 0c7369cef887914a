from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator

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


# No password is longer; the API's token endpoint has the same bound (licensing/tokens.py).
PASSWORD_MAX_LENGTH = 4096


class SignInForm(AuthenticationForm):
    """Django's sign-in form, its lengths enforced before anything is looked up or counted.

    Django sets the user name's max_length only on the widget, so a longer name reached
    django-axes, which stores it in a column of 255: a 500 instead of a form error.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))
        password = self.fields["password"]
        password.max_length = PASSWORD_MAX_LENGTH
        password.validators.append(MaxLengthValidator(PASSWORD_MAX_LENGTH))
