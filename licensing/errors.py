"""The few domain errors; pages show them as messages, the API maps them once to HTTP.

An error may name the input `field` it is about: the API's exception handler answers it under
that field, as a serializer would, and `add_to_form` puts it beside the field of a page's form,
so no rule is written again outside its service just to place its message.

`domain_error_from` is the one place where what the database or a model's own validation refuses
(a unique key a simultaneous identical request took first, a `full_clean()` that failed) becomes
a domain error, for the API's exception handler and the pages' middleware alike.
"""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError

DUPLICATE_MESSAGE = "This conflicts with a record that already exists (perhaps sent twice at once)."
# Django's codes for a unique field (a single-field unique constraint's check too) and several.
UNIQUE_CODES = {"unique", "unique_together", "unique_for_date"}


class DomainError(Exception):
    status_code = 400
    # Errors by field, answered as they are (`{"sku": ["..."], "non_field_errors": [...]}`).
    body: dict | None = None

    def __init__(self, message: str = "", *, field: str | None = None, body: dict | None = None):
        super().__init__(message)
        self.field = field
        if body is not None:
            self.body = body


class TransitionNotAllowed(DomainError):
    """The object's current state does not allow the transition asked for."""

    status_code = 409


class ConflictError(DomainError):
    """Somebody else changed the object since the caller read it."""

    status_code = 409


class ActionForbidden(DomainError):
    """The acting user's role may not do this."""

    status_code = 403


def add_to_form(form, error: DomainError) -> None:
    """Place a service's refusal on a Django form: beside its field, or above the form."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, str(error))


def domain_error_from(exc: Exception) -> DomainError | None:
    """The domain error an exception stands for, or None for one that is a bug.

    A model's `ValidationError` is a 400 with an error per field; where every error is a unique
    check it is a 409, as the database's own unique violation (`IntegrityError`) is: the
    service's transaction rolled back, so nothing is half-written.
    """
    if isinstance(exc, DomainError):
        return exc
    if isinstance(exc, IntegrityError):
        return ConflictError(DUPLICATE_MESSAGE)
    if not isinstance(exc, ValidationError):
        return None
    found = exc.error_dict if hasattr(exc, "error_dict") else {NON_FIELD_ERRORS: exc.error_list}
    body, codes = {}, set()
    for name, errors in found.items():
        key = "non_field_errors" if name == NON_FIELD_ERRORS else name
        for error in errors:
            codes.add(error.code)
            body.setdefault(key, []).extend(error.messages)
    field = next((name for name in body if name != "non_field_errors"), None)
    message = " ".join(message for messages in body.values() for message in messages)
    kind = ConflictError if codes and codes <= UNIQUE_CODES else DomainError
    return kind(message, field=field, body=body)
