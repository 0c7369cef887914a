"""Limits every app shares, so a form, a serializer and the database never disagree."""

from datetime import date

# Reasons, notes and resolutions: forms and serializers refuse more; the database stores text
# columns (history's change reason included), so it never refuses less.
REASON_MAX_LENGTH = 2000

# The dates any input may name (licensing.validation's fields, the audit timeline's filters).
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2200, 12, 31)
