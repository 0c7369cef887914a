"""What a person decides once the machinery has done what it can alone, and blackout removal.

The review queue holds two kinds of item: a delivery that reached its retry ceiling (escalated)
and a reconciliation finding nobody could repair automatically. A manager resolves a finding
with a reason, sends an escalated delivery again with a fresh ceiling, or closes it with a
reason (the system is gone, or the holder was removed by hand). Each decision has its rule
(``*_refusal``), asked by the pages before they offer it and enforced here again.

A blackout window a customer no longer needs may be removed before it is over; a run it
deferred goes back to the day it would have had, and executes then (today, if that has come).

Kept apart from ``services.py`` (already past its size budget) and from the run's own steps:
a decision changes one row, writes its history and one audit event; sending happens on commit,
through the same Celery task as every other attempt.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from ..errors import ActionForbidden, TransitionNotAllowed
from ..services._common import _require_reason, _stamp
from .models import BlackoutWindow, Delivery, DeprovisioningRun, ReconciliationFinding
from .services import (
    _active_holds,
    _advance_on_commit,
    _audit,
    _execution_day,
    _reschedule,
    revocation_policy,
)

PERM = "licensing.change_deprovisioningrun"
Finding = ReconciliationFinding
Run = DeprovisioningRun


def _forbidden_or_refused(actor, refusal: str) -> Exception:
    return ActionForbidden(refusal) if not actor.has_perm(PERM) else TransitionNotAllowed(refusal)


# Findings -------------------------------------------------------------------------------------


def finding_resolve_refusal(actor, finding: Finding) -> str | None:
    """Why ``actor`` may not resolve ``finding`` now, or ``None``."""
    if not actor.has_perm(PERM):
        return "Your role may not resolve reconciliation findings."
    if finding.state != Finding.State.OPEN:
        return "This finding is already resolved."
    return None


@transaction.atomic
def finding_resolve(*, actor, finding_id: int, reason: str, on: date) -> Finding:
    """Close a finding a person looked at, saying what they found or did."""
    if not actor.has_perm(PERM):
        raise ActionForbidden("Your role may not resolve reconciliation findings.")
    reason = _require_reason(reason)
    finding = (
        Finding.objects.select_for_update().select_related("reconciliation").get(pk=finding_id)
    )
    refusal = finding_resolve_refusal(actor, finding)
    if refusal:
        raise _forbidden_or_refused(actor, refusal)
    finding.state, finding.resolved_at = Finding.State.RESOLVED, timezone.now()
    finding.resolved_by, finding.resolution = actor, reason
    _stamp(finding, actor=actor, reason=reason)
    finding.save()
    _audit(actor, "reconciliation_finding.resolve", finding, reason=reason,
           policy=revocation_policy(on), data={
               "reconciliation": finding.reconciliation_id, "system":
               finding.reconciliation.system_id, "external_id": finding.external_id,
               "situation": finding.situation, "kind": finding.kind,
           })  # fmt: skip
    return finding


# Escalated deliveries -------------------------------------------------------------------------


def _escalated_refusal(actor, delivery: Delivery, what: str) -> str | None:
    if not actor.has_perm(PERM):
        return f"Your role may not {what} deliveries."
    if delivery.state != Delivery.State.ESCALATED:
        return f"Only an escalated delivery can be {what}ed; this one is {delivery.state}."
    if delivery.closed_at is not None:
        return "This delivery was closed."
    return None


def delivery_retry_refusal(actor, delivery: Delivery, *, held: bool | None = None) -> str | None:
    """Why ``actor`` may not send ``delivery`` again now, or ``None``. ``held``: whether its
    contract is under an active hold, when the caller already knows."""
    refusal = _escalated_refusal(actor, delivery, "retry")
    if refusal:
        return refusal
    run = delivery.run
    if delivery.action == Delivery.Action.REVOKE:
        if run.state == Run.State.ROLLED_BACK:
            return f"Run {run.pk} was rolled back: nothing is to be revoked any more."
        if held is None:
            held = _active_holds(run.contract_id).exists()
        if held:
            return "The contract is under hold: nothing is taken away until it is lifted."
    return None


def _locked_delivery(delivery_id: int) -> Delivery:
    return (
        Delivery.objects.select_for_update(of=("self",))
        .select_related("run", "policy", "system").get(pk=delivery_id)
    )  # fmt: skip


def delivery_retry(*, actor, delivery_id: int, reason: str) -> Delivery:
    """Send an escalated delivery again with a fresh retry ceiling, through the Celery task
    after commit. A run that failed on it executes again, so it completes once every delivery
    is confirmed (or fails again, naming what is still escalated)."""
    from .tasks import advance_run, send_delivery

    if not actor.has_perm(PERM):
        raise ActionForbidden("Your role may not retry deliveries.")
    reason = _require_reason(reason)
    with transaction.atomic():
        delivery = _locked_delivery(delivery_id)
        refusal = delivery_retry_refusal(actor, delivery)
        if refusal:
            raise _forbidden_or_refused(actor, refusal)
        run = Run.objects.select_for_update(of=("self",)).get(pk=delivery.run_id)
        attempts_before = delivery.attempts
        delivery.state, delivery.attempts = Delivery.State.PENDING, 0
        delivery.escalated_at, delivery.queued_at = None, timezone.now()
        _stamp(delivery, actor=actor, reason=reason)
        delivery.save()
        resumed = run.state == Run.State.FAILED
        if resumed:
            run.execute()
            _stamp(run, actor=actor, reason=reason)
            run.save()
        _audit(actor, "delivery.retry", delivery, reason=reason, policy=delivery.policy, data={
            "run": run.pk, "attempts_before": attempts_before, "last_error": delivery.last_error,
            "run_state": run.state,
        })  # fmt: skip
        run_id = run.pk

        def send() -> None:
            send_delivery.delay(delivery_id)
            # Without a broker the send above has settled by now; with one, this finds the
            # delivery still queued and changes nothing (the task advances the run itself).
            advance_run.delay(run_id)

        transaction.on_commit(send, robust=True)
    return Delivery.objects.get(pk=delivery_id)


def delivery_close_refusal(actor, delivery: Delivery) -> str | None:
    """Why ``actor`` may not close ``delivery`` now, or ``None``."""
    return _escalated_refusal(actor, delivery, "close")


@transaction.atomic
def delivery_close(*, actor, delivery_id: int, reason: str) -> Delivery:
    """Take an escalated delivery out of the review queue with a reason, sending nothing.

    It stays ``escalated`` (it never was confirmed by read-back, and its run says so); the
    reason and the person are recorded, and executing the run again leaves it alone.
    """
    if not actor.has_perm(PERM):
        raise ActionForbidden("Your role may not close deliveries.")
    reason = _require_reason(reason)
    delivery = _locked_delivery(delivery_id)
    refusal = delivery_close_refusal(actor, delivery)
    if refusal:
        raise _forbidden_or_refused(actor, refusal)
    delivery.closed_at, delivery.closed_by, delivery.close_reason = timezone.now(), actor, reason
    _stamp(delivery, actor=actor, reason=reason)
    delivery.save()
    _audit(actor, "delivery.close", delivery, reason=reason, policy=delivery.policy,
           data={"run": delivery.run_id, "attempts": delivery.attempts,
                 "last_error": delivery.last_error})  # fmt: skip
    return delivery


# Blackout windows -----------------------------------------------------------------------------

BLACKOUT_PERM = "licensing.add_blackoutwindow"


def blackout_remove_refusal(actor, window: BlackoutWindow, *, on: date) -> str | None:
    """Why ``actor`` may not remove ``window`` on ``on``, or ``None``. Whoever may set windows
    may take them away; a window that is over stays, the record of why a run waited."""
    if not actor.has_perm(BLACKOUT_PERM):
        return "Your role may not remove blackout windows."
    if window.ends_on <= on:
        return "This window is over: it stays as the record of why work waited."
    return None


def _undeferred_day(run: Run) -> date:
    """The day ``run`` would execute with the windows that remain: its effective date or the
    end of its notice lead, past any window still standing."""
    lead = int(run.policy.rules.get("notice_lead_days", 0))
    planned_on = timezone.localdate(run.created_at)
    return _execution_day(run.contract_id, max(run.effective_date, planned_on + timedelta(lead)))


@transaction.atomic
def blackout_remove(*, actor, window_id: int, reason: str, on: date) -> BlackoutWindow:
    """Remove a window that is not over; runs it deferred are brought forward again.

    The row is deleted (its history keeps it, with who removed it and why) and one audit event
    names it and the runs rescheduled. A run brought to a day that has come executes after
    commit, unless a hold stops it.
    """
    if not actor.has_perm(BLACKOUT_PERM):
        raise ActionForbidden("Your role may not remove blackout windows.")
    reason = _require_reason(reason)
    window = BlackoutWindow.objects.select_for_update().get(pk=window_id)
    refusal = blackout_remove_refusal(actor, window, on=on)
    if refusal:
        raise TransitionNotAllowed(refusal)
    data = {"starts_on": window.starts_on, "ends_on": window.ends_on, "contract":
            window.contract_id}  # fmt: skip
    _stamp(window, actor=actor, reason=reason)
    removed_pk = window.pk
    window.delete()
    window.pk = removed_pk  # for the audit event and the caller's message
    waiting = (
        Run.objects.select_for_update(of=("self",)).select_related("policy")
        .filter(contract_id=window.contract_id, execute_on=window.ends_on,
                state__in=[Run.State.PLANNED, Run.State.NOTIFIED, Run.State.ON_HOLD])
        .order_by("pk")
    )  # fmt: skip
    moved = []
    for run in waiting:
        day = _undeferred_day(run)
        if day >= run.execute_on:
            continue
        run.execute_on = day
        _stamp(run, actor=actor, reason=f"Blackout window removed: {reason}")
        run.save()
        _reschedule(run)
        moved.append({"run": run.pk, "execute_on": day})
        _advance_on_commit(run.pk)
    _audit(actor, "blackout.remove", window, reason=reason, policy=revocation_policy(on),
           data={**data, "runs_rescheduled": moved})  # fmt: skip
    return window
