"""Changes decided now for a later date: scheduled, applied on their date, or cancelled.

Until its date a scheduled change changes nothing it names; the beat job (`apply_due_changes`)
applies it at the start of its date through the same services a person would use, so history,
ledger and audit record it as usual. A change dated today or earlier applies at once.
"""

from collections.abc import Callable
from datetime import date

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record

from ..errors import DomainError
from ..models import ContractLine, Entitlement, Plan, ScheduledChange
from ._common import _require_perm, _require_reason, _stamp, system_actor
from .entitlements import (
    contract_line_change_plan,
    contract_line_change_quantity,
    entitlement_change_quantity,
)
from .lifecycle import entitlement_transition

K = ScheduledChange.Kind


@transaction.atomic
def change_schedule(
    *,
    actor,
    kind: str,
    effective_date: date,
    reason: str,
    on: date,
    entitlement_id: int | None = None,
    contract_line_id: int | None = None,
    quantity_after: int | None = None,
    plan_id: int | None = None,
    source: str = "",
    source_label: str = "",
) -> ScheduledChange:
    """Schedule one change to an entitlement (or, for a quantity or a plan move, a plan line)
    on `effective_date`; judged on the business date `on`, a date not after it applies at once."""
    _require_perm(actor, "licensing.change_entitlement", "schedule changes")
    reason = _require_reason(reason)
    if kind not in K.values:
        raise DomainError(f"'{kind}' is not a kind of scheduled change.")
    if (entitlement_id is None) == (contract_line_id is None):
        raise DomainError("A scheduled change names an entitlement or a plan line.")
    if contract_line_id is not None and kind not in (K.QUANTITY, K.PLAN):
        raise DomainError("A plan line's scheduled change is a quantity change or a plan move.")
    if kind == K.PLAN and (contract_line_id is None or plan_id is None):
        raise DomainError("A plan move names a plan line and the plan it moves to.",
                          field="plan_after")  # fmt: skip
    if kind == K.QUANTITY and quantity_after is None:
        raise DomainError("Say the quantity after the change.", field="quantity_after")
    if entitlement_id is not None:
        target = Entitlement.objects.get(pk=entitlement_id)
        contract_id, before = target.contract_id, target.quantity
    else:
        target = ContractLine.objects.get(pk=contract_line_id)
        contract_id, before = target.contract_id, target.quantity
    plan_after = Plan.objects.get(pk=plan_id) if kind == K.PLAN else None
    change = ScheduledChange(
        contract_id=contract_id, entitlement_id=entitlement_id,
        contract_line_id=contract_line_id, kind=kind,
        quantity_before=before if kind == K.QUANTITY else None,
        quantity_after=quantity_after if kind == K.QUANTITY else None,
        plan_before_id=target.plan_id if plan_after else None, plan_after=plan_after,
        effective_date=effective_date, source=source, source_label=source_label,
        reason=reason, created_by=actor,
    )  # fmt: skip
    _stamp(change, actor=actor, reason=reason)
    change.save()
    audit_record(
        actor=actor, action="scheduled_change.create", object_type="licensing.scheduledchange",
        object_id=change.pk, reason=reason,
        data={"contract": contract_id, "kind": kind, "entitlement": entitlement_id,
              "contract_line": contract_line_id, "quantity_after": quantity_after,
              "plan_after": plan_id, "effective_date": effective_date, "source": source},
    )  # fmt: skip
    if effective_date <= on:
        _apply(change, actor=actor, on=on)
    return change


def _apply(change: ScheduledChange, *, actor, on: date) -> None:
    """Carry out a pending change, locked by the caller, through the services."""
    common = {"actor": actor, "reason": change.reason}
    if change.kind == K.PLAN:
        contract_line_change_plan(
            contract_line_id=change.contract_line_id, plan_id=change.plan_after_id, **common
        )
    elif change.kind == K.QUANTITY and change.contract_line_id:
        contract_line_change_quantity(
            contract_line_id=change.contract_line_id, quantity=change.quantity_after, **common
        )
    elif change.kind == K.QUANTITY:
        entitlement_change_quantity(
            entitlement_id=change.entitlement_id, quantity=change.quantity_after,
            effective_date=change.effective_date, **common,
        )  # fmt: skip
    else:
        entitlement_transition(
            entitlement_id=change.entitlement_id, transition=change.kind,
            effective_date=change.effective_date, **common,
        )  # fmt: skip
    change.state = ScheduledChange.State.APPLIED
    change.applied_at = timezone.now()
    _stamp(change, actor=actor, reason=change.reason)
    change.save(update_fields=["state", "applied_at"])
    audit_record(
        actor=actor, action="scheduled_change.apply", object_type="licensing.scheduledchange",
        object_id=change.pk, reason=change.reason,
        data={"kind": change.kind, "effective_date": change.effective_date, "applied_on": on},
    )  # fmt: skip


def _claim(change_id: int, on: date) -> ScheduledChange | None:
    """The change, locked, if it is still pending and due on `on`; a duplicate run waits here
    for the first and then finds nothing to do."""
    change = (
        ScheduledChange.objects.select_for_update(of=("self",))
        .filter(pk=change_id, state=ScheduledChange.State.PENDING, effective_date__lte=on)
        .first()
    )
    return change


def scheduled_change_apply(*, change_id: int, on: date, actor=None) -> bool:
    """Apply one due change; True if this call applied it. A change the entitlement no longer
    allows (revoked, expired meanwhile) is cancelled with the reason, for a person to see."""
    actor = actor or system_actor()
    try:
        with transaction.atomic():
            change = _claim(change_id, on)
            if change is None:
                return False
            _apply(change, actor=actor, on=on)
            return True
    except DomainError as error:
        with transaction.atomic():
            change = _claim(change_id, on)
            if change is not None:
                _cancel(change, actor=actor, reason=f"Could not be applied: {error}")
        return False


def apply_due_changes(*, on: date, actor=None) -> int:
    """The beat job: every pending change dated `on` or earlier, oldest first, one
    transaction each. Safe to run twice."""
    actor = actor or system_actor()
    due = ScheduledChange.objects.filter(
        state=ScheduledChange.State.PENDING, effective_date__lte=on
    ).order_by("effective_date", "pk")
    return sum(
        scheduled_change_apply(change_id=pk, on=on, actor=actor)
        for pk in list(due.values_list("pk", flat=True))
    )


def _cancel(change: ScheduledChange, *, actor, reason: str) -> None:
    change.state = ScheduledChange.State.CANCELLED
    change.outcome = reason
    _stamp(change, actor=actor, reason=reason)
    change.save(update_fields=["state", "outcome"])
    audit_record(
        actor=actor, action="scheduled_change.cancel", object_type="licensing.scheduledchange",
        object_id=change.pk, reason=reason, data={"kind": change.kind},
    )  # fmt: skip


# A change decided by another app may carry more than itself (a credit's money rides on a
# downgrade). That app says, from its AppConfig.ready, when such a change may not be called off
# on its own: `guard(change) -> str | None`, for changes whose source starts with `prefix`.
# Licensing names no consumer.
_cancel_guards: dict[str, Callable[[ScheduledChange], str | None]] = {}


def register_cancel_guard(prefix: str, guard: Callable[[ScheduledChange], str | None]) -> None:
    _cancel_guards[prefix] = guard


def _check_canceller(actor, change: ScheduledChange, on: date, guarded: bool) -> None:
    _require_perm(actor, "licensing.change_entitlement", "cancel scheduled changes")
    if change.state != ScheduledChange.State.PENDING:
        raise DomainError(f"This change is {change.get_state_display().lower()} already.")
    if guarded and change.effective_date <= on:
        raise DomainError(
            f"This change takes effect on {change.effective_date:%-d %b %Y}: it is due now and "
            f"can no longer be called off."
        )
    for prefix, guard in _cancel_guards.items() if guarded else ():
        refusal = change.source.startswith(prefix) and guard(change)
        if refusal:
            raise DomainError(refusal)


def scheduled_change_cancel_refusal(*, actor, change: ScheduledChange, on: date) -> str | None:
    """Why `actor` may not call off `change` on the business date `on`, or None when they may.
    Pages ask it before offering the action; `scheduled_change_cancel` enforces it."""
    try:
        _check_canceller(actor, change, on, guarded=True)
    except DomainError as refusal:
        return str(refusal)
    return None


@transaction.atomic
def scheduled_change_cancel(
    *, actor, change_id: int, reason: str, on: date, guarded: bool = True
) -> ScheduledChange:
    """Call off a change that has not happened yet: nothing it names changes on its date.

    `guarded=False` is for the app that decided the change, calling it off with what it
    carries (a credit reversed calls off its own downgrade), also when it is due today and the
    beat job has not applied it yet."""
    reason = _require_reason(reason)
    change = ScheduledChange.objects.select_for_update(of=("self",)).get(pk=change_id)
    _check_canceller(actor, change, on, guarded)
    _cancel(change, actor=actor, reason=reason)
    return change
