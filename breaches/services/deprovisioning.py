"""An unresolved willful case past its final deadline may take back its entitlement: asked for
by one person, approved by a second, carried out by licensing's service."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone

from licensing.deprovisioning.services import entitlement_deprovision
from licensing.errors import ActionForbidden, TransitionNotAllowed

from ..models import BreachCase, CaseEvent, Classification
from ..policy import breach_rules
from ._common import audit, event, locked_case, may_manage, require_reason, stamp


def breach_deprovision_refusal(actor, case: BreachCase, *, on: date) -> str | None:
    """Why deprovisioning may not be asked for (or approved) now, or None."""
    if not may_manage(actor):
        return "Your role may not deprovision entitlements."
    if not case.is_open:
        return f"The case is {case.get_state_display().lower()}."
    if case.classification != Classification.WILLFUL:
        return "Only a case classified willful may lead to deprovisioning."
    if not breach_rules(case.policy).for_classification(case.classification).may_deprovision:
        return f"{case.policy} does not allow deprovisioning for this case."
    final = case.milestones.filter(is_final=True).order_by("-due_on").first()
    if final is None or final.done_on is not None or final.due_on >= on:
        return "Only once the case's final deadline has passed unmet."
    if case.deprovision_approved_at is not None:
        return "The entitlement was already deprovisioned for this case."
    return None


@transaction.atomic
def breach_deprovision_request(*, actor, case_id: int, reason: str, on: date) -> BreachCase:
    reason = require_reason(reason)
    case = locked_case(case_id)
    refusal = breach_deprovision_refusal(actor, case, on=on)
    if refusal:
        raise TransitionNotAllowed(refusal) if may_manage(actor) else ActionForbidden(refusal)
    case.deprovision_requested_by, case.deprovision_requested_at = actor, timezone.now()
    case.deprovision_reason = reason
    stamp(case, actor=actor, reason=reason)
    case.save()
    event(case, kind=CaseEvent.Kind.APPROVAL, action="request_deprovision", actor=actor,
          reason=reason, summary="Deprovisioning asked for; a second person must approve",
          customer_visible=False)  # fmt: skip
    audit(actor, "breach_case.request_deprovision", case, reason=reason, policy=case.policy)
    return case


@transaction.atomic
def breach_deprovision_approve(*, actor, case_id: int, reason: str, on: date) -> BreachCase:
    reason = require_reason(reason)
    case = locked_case(case_id)
    refusal = breach_deprovision_refusal(actor, case, on=on)
    if refusal:
        raise TransitionNotAllowed(refusal) if may_manage(actor) else ActionForbidden(refusal)
    if case.deprovision_requested_by_id is None:
        raise TransitionNotAllowed("Nobody has asked for deprovisioning yet.")
    if case.deprovision_requested_by_id == actor.pk:
        raise ActionForbidden("Somebody other than the person who asked must approve.")
    # Licensing's run, scoped to the entitlement: its holders at every connected system are
    # revoked, read back and reconciled after this transaction commits.
    run = entitlement_deprovision(
        actor=actor, entitlement_id=case.entitlement_id, on=on,
        reason=f"Breach case {case.pk}: {case.deprovision_reason} (approved: {reason})",
    )  # fmt: skip
    case.deprovision_approved_by, case.deprovision_approved_at = actor, timezone.now()
    case.deprovision_reference = f"licensing.deprovisioningrun:{run.pk}"
    stamp(case, actor=actor, reason=reason)
    case.save()
    event(case, kind=CaseEvent.Kind.DEPROVISIONING, action="deprovision", actor=actor,
          reason=reason, summary=f"Deprovisioning of {case.entitlement.name} approved: it is "
          "taken back at every connected system", data={"run": run.pk})  # fmt: skip
    audit(actor, "breach_case.deprovision", case, reason=reason, policy=case.policy, data={
        "requested_by": case.deprovision_requested_by.get_username(),
        "entitlement": case.entitlement_id, "run": run.pk,
    })  # fmt: skip
    return case
