"""The few domain errors; pages show them as messages, the API maps them once to HTTP."""


class DomainError(Exception):
    status_code = 400


class TransitionNotAllowed(DomainError):
    """The object's current state does not allow the transition asked for."""

    status_code = 409


class ConflictError(DomainError):
    """Somebody else changed the object since the caller read it."""

    status_code = 409


class ActionForbidden(DomainError):
    """The acting user's role may not do this."""

    status_code = 403
