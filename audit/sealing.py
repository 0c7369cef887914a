"""Secrets and personal data sealed at rest with Fernet under rotating keys (a MultiFernet).

One helper for every app, on the ground floor: a setting names a list of Fernet keys; the first
seals, every key opens, so keys rotate by putting a new one first, resealing what is stored
(`reseal`, or `manage.py rotate_personal_data_keys` for model fields), then dropping the old one.
Settings are read at call time, never at import.

- `CONNECTOR_SECRET_KEYS`: connected systems' secrets (licensing/deprovisioning/systems.py).
- `PERSONAL_DATA_KEYS`: personal data in model fields (`EncryptedTextField` below).
"""

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

# Every Fernet token starts with its version byte 0x80, base64url-encoded: "gAAAAA".
TOKEN_PREFIX = "gAAAAA"
PERSONAL_DATA = "PERSONAL_DATA_KEYS"


def sealer(setting: str) -> MultiFernet:
    keys = getattr(settings, setting, None)
    if not keys:
        raise ImproperlyConfigured(f"{setting} must name at least one Fernet key")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError:
        raise ImproperlyConfigured(f"{setting} holds a value that is not a Fernet key") from None


def seal(plaintext: str, *, setting: str) -> str:
    return sealer(setting).encrypt(plaintext.encode()).decode()


def unseal(sealed: str, *, setting: str) -> str:
    """The plaintext; `ValueError` (without the text) when no key opens it."""
    try:
        return sealer(setting).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise ValueError(f"a sealed value cannot be opened with any of {setting}") from None


def reseal(sealed: str, *, setting: str) -> str:
    """The same plaintext sealed under the first key (for rotation)."""
    try:
        return sealer(setting).rotate(sealed.encode()).decode()
    except InvalidToken:
        raise ValueError(f"a sealed value cannot be opened with any of {setting}") from None


class EncryptedTextField(models.TextField):
    """Text sealed with PERSONAL_DATA_KEYS in the column, clear in Python.

    The empty string stays empty (so `exclude(field="")` still works); any other value is a
    Fernet token in the database, different on every save, so it cannot be filtered or sorted
    on. simple-history copies the field, so history rows are sealed too. Who may read the clear
    text is decided where it is shown (`audit.personal`), not here.
    """

    description = "Text encrypted at rest (Fernet, rotating keys)"

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return seal(str(value), setting=PERSONAL_DATA)

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return unseal(value, setting=PERSONAL_DATA)


class EncryptedEmailField(EncryptedTextField):
    """An e-mail address sealed like `EncryptedTextField`, validated as an address in forms."""

    default_validators = models.EmailField.default_validators

    def formfield(self, **kwargs):
        from django import forms

        # Field's, not TextField's: an address is one line, not a text area.
        return models.Field.formfield(self, **{"form_class": forms.EmailField, **kwargs})


class EncryptedJSONField(EncryptedTextField):
    """A JSON value (a list of e-mail addresses) sealed like `EncryptedTextField`: the column
    is a text column holding one Fernet token of the JSON text; Python sees the decoded value.
    Every value is sealed, an empty list too, so nothing in the column is readable."""

    description = "JSON encrypted at rest (Fernet, rotating keys)"

    def get_prep_value(self, value):
        # Not TextField's: it would turn a list into its repr.
        if value is None:
            return value
        return seal(json.dumps(value, sort_keys=True), setting=PERSONAL_DATA)

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return json.loads(unseal(value, setting=PERSONAL_DATA))

    def to_python(self, value):
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj), sort_keys=True)

    def formfield(self, **kwargs):
        from django import forms

        return models.Field.formfield(self, **{"form_class": forms.JSONField, **kwargs})


# Migrations and key rotation work on the raw column, so no model code (and no history row) is
# involved and a value is never sealed twice.


def _rows(connection, table: str, column: str, pk: str):
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {qn(pk)}, {qn(column)} FROM {qn(table)} WHERE {qn(column)} <> ''")
        return cursor.fetchall()


def _write(connection, table: str, column: str, pk: str, values: list[tuple]) -> None:
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {qn(table)} SET {qn(column)} = %s WHERE {qn(pk)} = %s", values)


def seal_column(connection, table: str, column: str, *, pk: str = "id") -> int:
    """Seal every clear value of a column in place (values already sealed are left)."""
    rows = [(seal(value, setting=PERSONAL_DATA), key)
            for key, value in _rows(connection, table, column, pk)
            if value is not None and not value.startswith(TOKEN_PREFIX)]  # fmt: skip
    _write(connection, table, column, pk, rows)
    return len(rows)


def unseal_column(connection, table: str, column: str, *, pk: str = "id") -> int:
    rows = [(unseal(value, setting=PERSONAL_DATA), key)
            for key, value in _rows(connection, table, column, pk)
            if value is not None and value.startswith(TOKEN_PREFIX)]  # fmt: skip
    _write(connection, table, column, pk, rows)
    return len(rows)


def reseal_column(connection, table: str, column: str, *, pk: str = "id") -> int:
    rows = [
        (reseal(value, setting=PERSONAL_DATA), key)
        for key, value in _rows(connection, table, column, pk)
        if value is not None
    ]
    _write(connection, table, column, pk, rows)
    return len(rows)


def encrypted_columns(models_iterable) -> list[tuple[str, str, str]]:
    """(table, column, pk column) of every EncryptedTextField of the given models."""
    return [
        (model._meta.db_table, field.column, model._meta.pk.column)
        for model in models_iterable
        if model._meta.managed and not model._meta.proxy
        for field in model._meta.local_fields
        if isinstance(field, EncryptedTextField)
    ]
