"""Limits every app shares, so a form, a serializer and the database never disagree."""

# Reasons, notes and resolutions: forms and serializers refuse more; the database stores text
# columns (history's change reason included), so it never refuses less.
REASON_MAX_LENGTH = 2000
