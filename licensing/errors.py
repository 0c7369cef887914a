"""The few domain errors; pages show them as messages, the API maps them once to HTTP.

An error may name the input `field` it is about: the API's exception handler answers it under
that field, as a serializer would, and `add_to_form` puts it beside the field of a page's form,
so no rule is written again outside its service just to place its message.
"""


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str = "", *, field: str | None = None):
        super().__init__(message)
        self.field = field


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
