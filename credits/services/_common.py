"""Small helpers every credits service shares."""

from django.contrib.auth import get_user_model

from licensing.errors import DomainError
from outbox.services import mail_enqueue


def _refusal(check, *args) -> str | None:
    """A check's refusal in its own words, or None: what pages ask before offering an action
    that the service, calling the same check, enforces."""
    try:
        check(*args)
    except DomainError as refusal:
        return str(refusal)
    return None


def _reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(f"Give a reason to {what}.", field="reason")
    return reason


def _stamp(instance, *, actor, reason: str) -> None:
    instance._history_user = actor
    instance._change_reason = reason


def _mail_role(role: str, *, kind: str, subject: str, body: str) -> None:
    """Mail everyone active in `role`: queued in the caller's transaction, sent after commit."""
    emails = (
        get_user_model()
        .objects.filter(groups__name=role, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    mail_enqueue(kind=kind, to=emails, subject=subject, body=body)


def role_label(role: str) -> str:
    """ "finance approver" for people, from the role's code."""
    from licensing.roles import Role

    return Role(role).label.lower() if role in Role.values else role
