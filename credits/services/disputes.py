"""Disputes of issued credits: a case for finance with a deadline."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from licensing.errors import ActionForbidden, DomainError, TransitionNotAllowed
from licensing.roles import Role, role_of

from ..models import (
    Credit,
    Dispute,
)
from ..selectors import policy_rules
from ._common import FINANCE, _mail_role, _reason, _stamp


@transaction.atomic
def dispute_open(*, actor, credit_id: int, reason: str, attachment=None) -> Dispute:
    reason = _reason(reason, "dispute a credit")
    # Locked, so two simultaneous disputes of one credit cannot both open.
    credit = (
        Credit.objects.select_for_update(of=("self",)).select_related("policy").get(pk=credit_id)
    )
    membership = getattr(actor, "customer_membership", None)
    if membership is None or membership.customer_id != credit.customer_id:
        raise ActionForbidden("Only the customer's own users dispute a credit.")
    if credit.status != Credit.Status.ISSUED:
        raise TransitionNotAllowed("Only an issued credit can be disputed.")
    if credit.disputes.filter(status=Dispute.Status.OPEN).exists():
        raise DomainError("This credit already has an open dispute.")
    rules = policy_rules(credit.policy)
    dispute = Dispute(
        credit=credit, raised_by=actor, reason=reason, attachment=attachment or "",
        due_on=timezone.localdate() + timedelta(days=rules.dispute_days),
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
    if role_of(actor) not in FINANCE | {"admin"}:
        raise ActionForbidden("Finance resolves disputes.")
    dispute = Dispute.objects.select_for_update().select_related("credit").get(pk=dispute_id)
    if dispute.status != Dispute.Status.OPEN:
        raise TransitionNotAllowed(
            f"The dispute is already {dispute.get_status_display().lower()}."
        )
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
