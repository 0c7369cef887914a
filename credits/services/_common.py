"""Small helpers every credits service shares."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail

from licensing.errors import DomainError
from licensing.roles import Role

FINANCE = {Role.FINANCE_ANALYST, Role.FINANCE_APPROVER, Role.FINANCIAL_CONTROLLER}


def _reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(f"Give a reason to {what}.")
    return reason


def _stamp(instance, *, actor, reason: str) -> None:
    instance._history_user = actor
    instance._change_reason = reason


def _mail_role(role: str, subject: str, body: str) -> None:
    emails = list(
        get_user_model()
        .objects.filter(groups__name=role, is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
    )
    if emails:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, emails)
