"""Disputes of issued credits: a case for finance with a deadline."""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from licensing.errors import ActionForbidden, DomainError, TransitionNotAllowed
from licensing.roles import ADMIN, FINANCE_ROLES, Role, role_of

from ..models import (
    Credit,
    Dispute,
)
from ..selectors import policy_rules
from ._common import _mail_role, _reason, _refusal, _stamp

# Finance answers disputes (each finance role holds credits.change_dispute for the admin).
RESOLVER_ROLES = FINANCE_ROLES | {ADMIN}


def _check_disputer(actor, credit: Credit) -> None:
    membership = getattr(actor, "customer_membership", None)
    if membership is None or membership.customer_id != credit.customer_id:
        raise ActionForbidden("Only the customer's own users dispute a credit.")
    if credit.status != Credit.Status.ISSUED:
        raise TransitionNotAllowed("Only an issued credit can be disputed.")
    # In Python, not a query: pages hand in a credit with its disputes prefetched.
    if any(d.status == Dispute.Status.OPEN for d in credit.disputes.all()):
        raise DomainError("This credit already has an open dispute.")


def dispute_open_refusal(*, actor, credit: Credit) -> str | None:
    """Why `actor` may not dispute `credit` now, or None when they may."""
    return _refusal(_check_disputer, actor, credit)


def _check_resolver(actor, dispute: Dispute) -> None:
    if role_of(actor) not in RESOLVER_ROLES:
        raise ActionForbidden("Finance resolves disputes.")
    if dispute.status != Dispute.Status.OPEN:
        raise TransitionNotAllowed(
            f"The dispute is already {dispute.get_status_display().lower()}."
        )


def dispute_resolve_refusal(*, actor, dispute: Dispute) -> str | None:
    """Why `actor` may not resolve `dispute` now, or None when they may."""
    return _refusal(_check_resolver, actor, dispute)


@transaction.atomic
def dispute_open(*, actor, credit_id: int, reason: str, attachment=None, on: date) -> Dispute:
    """Open a dispute of a credit, due `dispute_days` after `on` (today, read by the caller)."""
    reason = _reason(reason, "dispute a credit")
    # Locked, so two simultaneous disputes of one credit cannot both open.
    credit = (
        Credit.objects.select_for_update(of=("self",)).select_related("policy").get(pk=credit_id)
    )
    _check_disputer(actor, credit)
    rules = policy_rules(credit.policy)
    dispute = Dispute(
        credit=credit, raised_by=actor, reason=reason, attachment=attachment or "",
        due_on=on + timedelta(days=rules.dispute_days),
    )  # fmt: skip
    _stamp(dispute, actor=actor, reason=reason)
    dispute.save()
    audit_record(actor=actor, action="dispute.open", object_type="credits.dispute",
                 object_id=dispute.pk, reason=reason, policy_version=credit.policy.label,
                 data={"credit": credit.pk, "due_on": dispute.due_on})  # fmt: skip
    _mail_role(Role.FINANCE_ANALYST, kind="dispute.open", subject=f"Dispute of {credit.number}",
               body=f"{actor.get_username()} disputes {credit.number}: {reason}")  # fmt: skip
    return dispute


@transaction.atomic
def dispute_resolve(*, actor, dispute_id: int, upheld: bool, resolution: str) -> Dispute:
    resolution = _reason(resolution, "resolve a dispute")
    dispute = Dispute.objects.select_for_update().select_related("credit").get(pk=dispute_id)
    _check_resolver(actor, dispute)
    dispute.status = Dispute.Status.UPHELD if upheld else Dispute.Status.DISMISSED
    dispute.resolution, dispute.resolved_by, dispute.resolved_at = (
        resolution, actor, timezone.now(),
    )  # fmt: skip
    _stamp(dispute, actor=actor, reason=resolution)
    dispute.save()
    audit_record(actor=actor, action=f"dispute.{dispute.status}", object_type="credits.dispute",
                 object_id=dispute.pk, reason=resolution,
                 policy_version=dispute.credit.policy.label)  # fmt: skip
    return dispute
