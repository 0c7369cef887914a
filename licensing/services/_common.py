"""Helpers every licensing service shares: permission, reason, policy, ledger."""

from datetime import date, timedelta

from django_fsm import can_proceed

from audit.limits import REASON_MAX_LENGTH
from audit.services import audit_record

from ..errors import ActionForbidden, DomainError, TransitionNotAllowed
from ..models import (
    Entitlement,
    LedgerEntry,
    PolicyVersion,
)
from ..selectors import policy_in_force

CONTRACT_TRANSITIONS = ("activate", "suspend", "resume", "terminate", "expire")
ENTITLEMENT_TRANSITIONS = (
    "activate", "suspend", "resume", "start_grace", "hold", "release_hold",
    "revoke", "restore", "expire",
)  # fmt: skip

TRANSITION_LABELS = {
    "activate": "Activate",
    "suspend": "Suspend",
    "resume": "Resume",
    "start_grace": "Start grace period",
    "hold": "Place on hold",
    "release_hold": "Release hold",
    "revoke": "Revoke",
    "restore": "Restore",
    "terminate": "Terminate",
    "expire": "Expire",
}


def _require_reason(reason: str, *, field: str | None = None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason: every change records why it was made.", field=field)
    # Pages that pass a reason straight from the request have no form to bound it.
    if len(reason) > REASON_MAX_LENGTH:
        raise DomainError(
            f"Keep the reason to {REASON_MAX_LENGTH:,} characters (it has {len(reason):,}).",
            field=field or "reason",
        )
    return reason


def _require_perm(actor, perm: str, what: str) -> None:
    if actor is None or not actor.has_perm(perm):
        raise ActionForbidden(f"Your role may not {what}.")


def _stamp(instance, *, actor, reason: str) -> None:
    # django-simple-history reads these when the row is saved.
    instance._history_user = actor
    instance._change_reason = reason


def _lifecycle_policy(on: date) -> PolicyVersion:
    return policy_in_force(kind=PolicyVersion.Kind.LIFECYCLE, on=on)


def _check_transition(obj, name: str, allowed: tuple[str, ...], noun: str, *, on: date):
    """The bound transition `name` of `obj` if it may happen on the business date `on`."""
    if name not in allowed:
        raise DomainError(f"'{name}' is not a {noun} transition.")
    obj.as_of = on
    method = getattr(obj, name)
    current = obj.get_state_display() if noun == "entitlement" else obj.get_status_display()
    if not can_proceed(method, check_conditions=False):
        raise TransitionNotAllowed(
            f"Cannot {TRANSITION_LABELS[name].lower()} {noun} {obj.pk}: it is {current.lower()}."
        )
    if not can_proceed(method):
        raise TransitionNotAllowed(
            f"Cannot {TRANSITION_LABELS[name].lower()} {noun} {obj.pk} yet: "
            f"its end date has not passed."
        )
    return method


def _quantity_delta(entitlement: Entitlement, was_holding: bool) -> int:
    if was_holding == entitlement.holds_quantity:
        return 0
    return entitlement.quantity if entitlement.holds_quantity else -entitlement.quantity


# Ledger actions that set an entitlement's state; every other entry carries the state on.
STATE_ACTIONS = frozenset(ENTITLEMENT_TRANSITIONS) | {"grant"}


def _effective(entitlement_id: int, effective: date, *, sets_state: bool = False) -> date:
    """`effective` if the ledger can record a change on that date.

    The ledger takes entries in any date order and reads them by effective date, so a
    quantity change may be dated before later entries (`_restate` carries it forward). A change
    of state may not go behind the entitlement's last change of state: the states in between
    were decided from the one before, and rewriting them would rewrite what happened.
    """
    entries = LedgerEntry.objects.filter(entitlement_id=entitlement_id)
    if sets_state:
        entries = entries.filter(action__in=STATE_ACTIONS)
    else:
        entries = entries.filter(action="grant")
    last = entries.order_by("-effective_date").values_list("effective_date", flat=True).first()
    if last is not None and effective < last:
        what = "last recorded change of state" if sets_state else "grant"
        raise DomainError(
            f"A change cannot take effect on {effective:%-d %b %Y}, before the entitlement's "
            f"{what} on {last:%-d %b %Y}.",
            field="effective_date",
        )
    return effective


def _restatement(
    rows: list[tuple[date, int, str]], *, effective: date, quantity: int, state: str | None
) -> list[tuple[date, int, str]]:
    """The (date, delta, state_after) entries that make a ledger `rows` (date-ordered
    (effective_date, quantity_delta, state_after)) say, from `effective` on: the entitlement
    holds `quantity` whenever its state holds, in `state` (None: in the states it records).

    The first entry is dated `effective`; each later date with entries gets a carrying entry
    where the difference between old and new changes, so the ledger is right on every date.
    """
    later = sorted({day for day, _delta, _state in rows if day > effective})
    out: list[tuple[date, int, str]] = []
    carried = 0
    for day in [effective, *later]:
        held, old_state = 0, None
        for row_day, delta, row_state in rows:
            if row_day > day:
                break
            held += delta
            old_state = row_state
        new_state = state or old_state
        correction = (quantity if new_state in Entitlement.HOLDING_STATES else 0) - held
        if day == effective or correction != carried or new_state != old_state:
            out.append((day, correction - carried, new_state))
        carried = correction
    return out


def _grace_end(entitlement: Entitlement, policy: PolicyVersion, on: date) -> date:
    # Grace is what the contract grants, never a default on top (issue 10): no grace_days, no grace.
    return on + timedelta(days=entitlement.contract.grace_days)


def _record_change(
    entitlement: Entitlement,
    *,
    actor,
    reason: str,
    policy: PolicyVersion,
    action: str,
    audit_action: str,
    effective: date,
    data: dict,
    state_before: str | None = None,
) -> int:
    """The ledger entries and the audit event that every change to an entitlement writes;
    returns the quantity delta recorded on `effective`.

    The entitlement is already saved with its new quantity and state; `state_before` says
    what the state was, for a transition. A `quantity_delta` key in `data` is filled in.
    Dated on or after every entry, that is one entry; dated before later entries, carrying
    entries follow on their dates.
    """
    rows = list(
        LedgerEntry.objects.filter(entitlement_id=entitlement.pk)
        .order_by("effective_date", "id")
        .values_list("effective_date", "quantity_delta", "state_after")
    )
    changes_state = state_before is not None and state_before != entitlement.state
    entries = _restatement(
        rows,
        effective=effective,
        quantity=entitlement.quantity,
        state=entitlement.state if changes_state or not rows else None,
    )
    LedgerEntry.objects.bulk_create(
        LedgerEntry(
            entitlement=entitlement,
            contract_id=entitlement.contract_id,
            effective_date=day,
            quantity_delta=delta,
            state_after=state,
            action=action if index == 0 else "carry",
            actor=actor,
            reason=reason if index == 0 else f"{reason} (carried from {effective:%-d %b %Y})",
            policy_version=policy.label,
        )
        for index, (day, delta, state) in enumerate(entries)
    )
    delta = entries[0][1]
    if "quantity_delta" in data:
        data = {**data, "quantity_delta": delta}
    if len(entries) > 1:
        data = {**data, "carried_to": [day for day, _d, _s in entries[1:]]}
    audit_record(
        actor=actor,
        action=audit_action,
        object_type="licensing.entitlement",
        object_id=entitlement.pk,
        reason=reason,
        policy_version=policy.label,
        data=data,
    )
    return delta


SYSTEM_USERNAME = "licensedesk-system"


def system_actor():
    """The account scheduled jobs act as, so their changes name an actor like any other."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    user, created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME, defaults={"first_name": "LicenseDesk", "last_name": "(automatic)"}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    if created or not user.has_perm("licensing.change_entitlement"):
        user.user_permissions.set(
            Permission.objects.filter(
                content_type__app_label="licensing",
                codename__in=[
                    "transition_entitlement",
                    "transition_contract",
                    "change_entitlement",
                ],
            )  # fmt: skip
        )
    return user
