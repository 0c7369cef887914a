"""Who reads personal data in clear: one rule for pages, the API and exports.

Encrypted fields (audit.sealing) hold contacts, notes and dispute texts. Roles that work with
customers (account managers, finance, the customer's own users, who see only their own rows)
hold the permission `audit.view_personal_data`; everybody else, auditors included, reads a mask
that says something is there without saying what.
"""

MASK = "•••• (personal data, hidden for your role)"


def personal_data_visible(user) -> bool:
    return bool(
        user is not None and user.is_authenticated and user.has_perm("audit.view_personal_data")
    )


def mask(value: str) -> str:
    if not value:
        return value
    if "@" in value and " " not in value.strip():
        local, _, domain = value.strip().rpartition("@")
        return f"{local[:1]}•••@{domain}"
    return MASK


def for_user(value, user):
    """`value` in clear for those who may read it, masked for everybody else; a list (of
    addresses) is masked item by item."""
    if value in (None, "") or personal_data_visible(user):
        return value
    if isinstance(value, list | tuple):
        return [mask(str(item)) for item in value]
    return mask(str(value))


class MaskPersonalData:
    """Serializer mixin: the fields named in `Meta.personal_fields` are masked on the way out
    for a reader who may not see them; input and the schema are untouched."""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        user = getattr(self.context.get("request"), "user", None)
        for name in getattr(self.Meta, "personal_fields", ()):
            if name in data:
                data[name] = for_user(data[name], user)
        return data


def personal_email_field(**kwargs):
    """An e-mail address in the API that a reader without the permission gets masked
    (`b•••@example.com`, no longer an address). In the schema a plain string, so the masked
    answer matches it; validated as an address on the way in by `validate_personal_email`
    (a field validator would put `format: email` back into the schema)."""
    from rest_framework import serializers

    return serializers.CharField(max_length=254, **kwargs)


def validate_personal_email(value: str) -> str:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email
    from rest_framework import serializers

    if value:
        try:
            validate_email(value)
        except ValidationError as error:
            raise serializers.ValidationError("Enter a valid email address.") from error
    return value
