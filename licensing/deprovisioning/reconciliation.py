"""Reconciliation (does every system agree with us?) and rollback (give back what a run took).

Reconciliation compares each assignment at one system with what the system reports: a SCIM
system is listed (``list_holders``), a webhook receiver is read back one holder at a time. Each
disagreement is classified as identity-governance tools do (situation) and by what is wrong
(kind). A holder still active after its entitlement was revoked is revoked again through the
same delivery machinery, confirmed by read-back, and reported repaired; anything else opens a
finding in the review queue.

Rollback is asked for by one person and approved by another; approval restores the run's
entitlements through the licensing services and sends a ``restore`` delivery to every system.
"""

from __future__ import annotations

import uuid
from datetime import date

from django.db import transaction
from django.utils import timezone

from .. import services as licensing
from ..errors import ActionForbidden, TransitionNotAllowed
from ..models import Assignment, ConnectedSystem, Entitlement
from ..services._common import _require_reason, _stamp
from .connectors import ConnectorError
from .models import Delivery, DeprovisioningRun, Reconciliation, ReconciliationFinding
from .services import (
    _audit,
    _connector,
    _locked,
    _save_run,
    delivery_attempt,
    revocation_policy,
)

Finding = ReconciliationFinding
Situation, Kind = Finding.Situation, Finding.Kind
GONE = (Entitlement.State.REVOKED, Entitlement.State.EXPIRED)
PERM = "licensing.change_deprovisioningrun"
R = DeprovisioningRun.State
UNDOABLE = (R.EXECUTING, R.VERIFYING, R.COMPLETED, R.FAILED)


def _reported(system: ConnectedSystem, assignments: list[Assignment]) -> dict:
    """What the system says of each assignment: ``True``, ``False``, ``None`` (missing), or
    the ConnectorError that stopped us from asking."""
    connector = _connector(system)
    reported: dict = {}
    try:
        if connector.lists_holders:
            by_group: dict[str, dict[str, bool]] = {}
            for group in {a.group_id or "" for a in assignments}:
                holders = connector.list_holders(group_id=group or None)
                by_group[group] = {h.external_id: h.active for h in holders}
            for a in assignments:
                reported[a.pk] = by_group[a.group_id or ""].get(a.external_id)
            return reported | {"_groups": by_group}
        for a in assignments:
            try:
                reported[a.pk] = connector.read_back(a.external_id, group_id=a.group_id or None)
            except ConnectorError as error:
                reported[a.pk] = error
        return reported
    finally:
        connector.close()


def _classify(assignment: Assignment, state, expected_by_holder: dict) -> tuple[str, str] | None:
    """(situation, kind) of an assignment whose system disagrees; ``None`` when it agrees."""
    revoked = assignment.entitlement.state in GONE
    key = (assignment.group_id or "", assignment.external_id)
    disputed = len(expected_by_holder.get(key, set())) > 1
    if isinstance(state, ConnectorError):
        return Situation.UNLINKED, Kind.MISMATCH
    if state is None:
        return None if revoked else (Situation.DELETED, Kind.MISSING)
    if revoked and state:
        if disputed:  # another entitlement still grants the same holder: a person decides
            return Situation.DISPUTED, Kind.MISMATCH
        return Situation.LINKED, Kind.ACTIVE_AFTER_REVOCATION
    if not revoked and not state:
        return (Situation.DISPUTED if disputed else Situation.LINKED), Kind.MISMATCH
    return None


def _repair(assignment: Assignment, reconciliation: Reconciliation, policy) -> bool:
    """Revoke again through the delivery machinery; ``True`` once read-back confirms it."""
    run = (
        DeprovisioningRun.objects.filter(contract_id=assignment.entitlement.contract_id)
        .order_by("-created_at", "-pk").first()
    )  # fmt: skip
    if run is None:
        return False
    delivery = Delivery.objects.create(
        run=run, assignment=assignment, entitlement=assignment.entitlement,
        system=assignment.system, external_id=assignment.external_id,
        action=Delivery.Action.REVOKE, scheduled_for=timezone.localdate(),
        idempotency_key=f"msg_{uuid.uuid4().hex}", policy=policy, reconciliation=reconciliation,
    )  # fmt: skip
    state = delivery_attempt(delivery_id=delivery.pk)
    while state == Delivery.State.FAILED:  # retried in-process up to the policy's ceiling
        state = delivery_attempt(delivery_id=delivery.pk)
    return state == Delivery.State.CONFIRMED


def reconcile_system(*, actor, system_id: int, on: date) -> Reconciliation:
    """Compare, classify, repair what is safe to repair, queue the rest; stored with its count."""
    if not actor.has_perm(PERM):
        raise ActionForbidden("Your role may not reconcile connected systems.")
    system = ConnectedSystem.objects.get(pk=system_id)
    policy = revocation_policy(on)
    assignments = list(
        Assignment.objects.filter(system=system).select_related("entitlement").order_by("pk")
    )
    expected_by_holder: dict[tuple[str, str], set[bool]] = {}
    for a in assignments:
        key = (a.group_id or "", a.external_id)
        expected_by_holder.setdefault(key, set()).add(a.entitlement.state not in GONE)
    reported = _reported(system, assignments) if system.protocol and assignments else {}
    reconciliation = Reconciliation(system=system, started_by=actor, policy=policy)
    reconciliation.checked = len(assignments)
    reconciliation.save()
    for a in assignments:
        classified = _classify(a, reported.get(a.pk), expected_by_holder)
        if classified is None:
            continue
        situation, kind = classified
        repaired = kind == Kind.ACTIVE_AFTER_REVOCATION and _repair(a, reconciliation, policy)
        state = reported.get(a.pk)
        Finding.objects.create(
            reconciliation=reconciliation, assignment=a, external_id=a.external_id,
            situation=situation, kind=kind, repaired=repaired,
            state=Finding.State.RESOLVED if repaired else Finding.State.OPEN,
            resolved_at=timezone.now() if repaired else None,
            detail=str(state) if isinstance(state, ConnectorError) else "",
        )  # fmt: skip
    # Group members we never assigned hold a role we did not grant: unmatched, for a person.
    assigned = {(a.group_id or "", a.external_id) for a in assignments}
    for group, holders in (reported.get("_groups") or {}).items():
        if not group:
            continue  # a directory holds people who hold nothing of ours
        for external_id, active in holders.items():
            if active and (group, external_id) not in assigned:
                Finding.objects.create(
                    reconciliation=reconciliation, external_id=external_id,
                    situation=Situation.UNMATCHED, kind=Kind.MISMATCH,
                    detail=f"Member of group {group} without an assignment",
                )  # fmt: skip
    findings = list(reconciliation.findings.all())
    reconciliation.drift = len(findings)
    reconciliation.repaired = sum(f.repaired for f in findings)
    reconciliation.save(update_fields=["drift", "repaired"])
    _audit(actor, "reconciliation.run", reconciliation, reason=f"Reconciled {system}",
           policy=policy, data={"system": system.pk, "checked": reconciliation.checked,
                                "drift": reconciliation.drift,
                                "repaired": reconciliation.repaired})  # fmt: skip
    return reconciliation


def reconcile_all(*, on: date) -> dict[str, int]:
    """Nightly: every system that is sent changes."""
    actor = licensing.system_actor()
    counts = {"systems": 0, "drift": 0, "repaired": 0}
    for pk in ConnectedSystem.objects.exclude(protocol="").values_list("pk", flat=True):
        try:
            done = reconcile_system(actor=actor, system_id=pk, on=on)
        except ConnectorError:
            continue
        counts["systems"] += 1
        counts["drift"] += done.drift
        counts["repaired"] += done.repaired
    return counts


# Rollback -------------------------------------------------------------------------------------


def rollback_request_refusal(actor, run: DeprovisioningRun) -> str | None:
    """Why ``actor`` may not ask for ``run`` to be rolled back now, or ``None``."""
    if not actor.has_perm(PERM):
        return "Your role may not ask for rollbacks."
    if run.state == DeprovisioningRun.State.ROLLED_BACK:
        return f"Run {run.pk} is already rolled back."
    if run.state not in UNDOABLE:
        return f"Run {run.pk} took nothing yet; there is nothing to roll back."
    if run.rollback_requested_at and not run.rollback_approved_at:
        return f"A rollback of run {run.pk} already waits for approval."
    return None


@transaction.atomic
def rollback_request(*, actor, run_id: int, reason: str) -> DeprovisioningRun:
    if not actor.has_perm(PERM):
        raise ActionForbidden("Your role may not ask for rollbacks.")
    reason = _require_reason(reason)
    run = _locked(run_id)
    refusal = rollback_request_refusal(actor, run)
    if refusal:
        raise TransitionNotAllowed(refusal)
    run.rollback_reason, run.rollback_requested_by = reason, actor
    run.rollback_requested_at = timezone.now()
    _save_run(run, actor=actor, reason=reason, action="rollback_request")
    return run


def rollback_approve_refusal(actor, run: DeprovisioningRun) -> str | None:
    if not actor.has_perm(PERM):
        return "Your role may not approve rollbacks."
    if run.rollback_requested_by_id == actor.pk:
        return "Somebody other than the person who asked for a rollback must approve it."
    return None


def rollback_pending(run: DeprovisioningRun) -> bool:
    """A rollback was asked for and waits for a second person."""
    return bool(run.rollback_requested_at and not run.rollback_approved_at)


def _renewal_before(entitlement: Entitlement, run: DeprovisioningRun) -> str | None:
    """The renewal the entitlement had before the run suppressed it, if history recorded it."""
    before = (
        entitlement.history.filter(history_date__lt=run.created_at)
        .order_by("-history_date").values_list("renewal", flat=True).first()
    )  # fmt: skip
    return before if before and before != Entitlement.Renewal.NONE else None


def rollback_approve(*, actor, run_id: int, reason: str, on: date) -> DeprovisioningRun:
    from .tasks import send_delivery

    reason = _require_reason(reason)
    with transaction.atomic():
        run = _locked(run_id)
        refusal = rollback_approve_refusal(actor, run)
        if refusal:
            raise ActionForbidden(refusal)
        if not run.rollback_requested_at or run.rollback_approved_at:
            raise TransitionNotAllowed(f"No rollback of run {run.pk} waits for approval.")
        run.roll_back()
        run.rollback_approved_by, run.rollback_approved_at = actor, timezone.now()
        _save_run(run, actor=actor, reason=reason, action="rollback_approve",
                  data={"requested_by": run.rollback_requested_by_id})  # fmt: skip
        why = f"Rollback of deprovisioning run {run.pk}: {reason}"
        restored = []
        for entitlement in Entitlement.objects.filter(contract_id=run.contract_id).order_by("pk"):
            renewal = _renewal_before(entitlement, run)
            if entitlement.state == Entitlement.State.GRACE:
                licensing.entitlement_transition(
                    actor=actor, entitlement_id=entitlement.pk, transition="revoke",
                    reason=why, effective_date=on,
                )  # fmt: skip
            if Entitlement.objects.get(pk=entitlement.pk).state == Entitlement.State.REVOKED:
                licensing.entitlement_transition(
                    actor=actor, entitlement_id=entitlement.pk, transition="restore",
                    reason=why, effective_date=on,
                )  # fmt: skip
                restored.append(entitlement.pk)
            if renewal:
                entitlement = Entitlement.objects.get(pk=entitlement.pk)
                entitlement.renewal = renewal
                _stamp(entitlement, actor=actor, reason=why)
                entitlement.save()
        revoked = run.deliveries.filter(action=Delivery.Action.REVOKE, reconciliation=None)
        restores = Delivery.objects.bulk_create(
            Delivery(
                run=run,
                assignment=d.assignment,
                entitlement=d.entitlement,
                system=d.system,
                external_id=d.external_id,
                action=Delivery.Action.RESTORE,
                scheduled_for=on,
                idempotency_key=f"msg_{uuid.uuid4().hex}",
                policy=run.policy,
            )  # fmt: skip
            for d in revoked.select_related("assignment")
        )
        _audit(actor, "deprovisioning.rollback", run, reason=reason, policy=run.policy,
               data={"entitlements": restored, "deliveries": [d.pk for d in restores]})  # fmt: skip
        for d in restores:
            transaction.on_commit(lambda pk=d.pk: send_delivery.delay(pk), robust=True)
    return DeprovisioningRun.objects.get(pk=run_id)
