"""Helpers every licensing service shares: permission, reason, policy, ledger."""

from datetime import date, timedelta

from django_fsm import can_proceed

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


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason: every change records why it was made.")
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


def _effective(entitlement_id: int, effective: date) -> date:
    last = (
        LedgerEntry.objects.filter(entitlement_id=entitlement_id)
        .order_by("-effective_date")
        .values_list("effective_date", flat=True)
        .first()
    )
    if last is not None and effective < last:
        raise DomainError(
            f"A change cannot take effect on {effective:%Y-%m-%d}, before the entitlement's "
            f"last recorded change on {last:%Y-%m-%d}."
        )
    return effective


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
    delta: int,
    data: dict,
) -> None:
    """The ledger entry and the audit event that every change to an entitlement writes."""
    LedgerEntry.objects.create(
        entitlement=entitlement,
        contract_id=entitlement.contract_id,
        effective_date=effective,
        quantity_delta=delta,
        state_after=entitlement.state,
        action=action,
        actor=actor,
        reason=reason,
        policy_version=policy.label,
    )
    audit_record(
        actor=actor,
        action=audit_action,
        object_type="licensing.entitlement",
        object_id=entitlement.pk,
        reason=reason,
        policy_version=policy.label,
        data=data,
    )


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
