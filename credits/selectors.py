from datetime import date

from django.db.models import QuerySet

from licensing.errors import DomainError

from .models import CreditPolicyVersion
from .rules import CreditRules, parse_rules


def credit_policy_in_force(*, on: date) -> CreditPolicyVersion:
    policy = (
        CreditPolicyVersion.objects.filter(
            status=CreditPolicyVersion.Status.PUBLISHED, effective_from__lte=on
        )
        .order_by("-effective_from", "-number")
        .first()
    )
    if policy is None:
        raise DomainError(f"No credit policy is in force on {on:%Y-%m-%d}.")
    return policy


def policy_rules(policy: CreditPolicyVersion) -> CreditRules:
    return parse_rules(policy.rules)


def published_policies() -> QuerySet[CreditPolicyVersion]:
    """Every version customers may read, newest first: the changelog."""
    return CreditPolicyVersion.objects.filter(status=CreditPolicyVersion.Status.PUBLISHED).order_by(
        "-effective_from", "-number"
    )


def upcoming_policy(*, today: date) -> CreditPolicyVersion | None:
    return published_policies().filter(effective_from__gt=today).order_by("effective_from").first()
