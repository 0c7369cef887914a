from django import forms

from audit.limits import REASON_MAX_LENGTH


class UsageUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8, with the header row entitlement,date,metric,quantity.",
    )
    reason = forms.CharField(
        max_length=REASON_MAX_LENGTH,
        initial="Usage reported",
        help_text="Recorded with the report.",
    )
