"""Lifecycle transitions of contracts and entitlements, one at a time or in bulk."""

from collections import defaultdict
from datetime import date, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_fsm import ConcurrentTransition, can_proceed

from audit.services import EventSpec, audit_record, audit_record_many

from ..errors import ConflictError, DomainError
from ..models import (
    CONTRACT_PERM,
    ENTITLEMENT_PERM,
    Contract,
    Entitlement,
    LedgerEntry,
    PolicyVersion,
)
from ._common import (
    CONTRACT_TRANSITIONS,
    ENTITLEMENT_TRANSITIONS,
    _check_transition,
    _effective,
    _grace_end,
    _lifecycle_policy,
    _quantity_delta,
    _record_change,
    _require_perm,
    _require_reason,
    _stamp,
    system_actor,
)
from .api_tokens import api_tokens_revoke_for

# An entitlement that ends takes its API tokens with it, in the same transaction.
TOKEN_ENDING = frozenset({"revoke", "expire"})


@transaction.atomic
def entitlement_transition(
    *,
    actor,
    entitlement_id: int,
    transition: str,
    reason: str,
    expected_version: int | None = None,
    effective_date: date | None = None,
) -> Entitlement:
    _require_perm(actor, ENTITLEMENT_PERM, "change entitlements")
    reason = _require_reason(reason)
    entitlement = (
        Entitlement.objects.select_for_update(of=("self",))
        .select_related("contract")
        .get(pk=entitlement_id)
    )
    if expected_version is not None and entitlement.version != expected_version:
        raise ConflictError(
            f"Entitlement {entitlement.pk} was changed by someone else since you loaded it; "
            f"it is now {entitlement.get_state_display().lower()}. Reload and try again."
        )
    on = effective_date or timezone.localdate()
    method = _check_transition(
        entitlement, transition, ENTITLEMENT_TRANSITIONS, "entitlement", on=on
    )
    effective = _effective(entitlement.pk, on, sets_state=True)
    policy = _lifecycle_policy(effective)
    before = entitlement.state

    method()
    if entitlement.state == Entitlement.State.GRACE:
        entitlement.grace_ends_on = _grace_end(entitlement, policy, effective)
    elif entitlement.state != Entitlement.State.HELD:
        entitlement.grace_ends_on = None
    entitlement.version += 1
    _stamp(entitlement, actor=actor, reason=reason)
    try:
        entitlement.save()
    except ConcurrentTransition:
        raise ConflictError(f"Entitlement {entitlement.pk} changed while you worked.") from None

    if transition in TOKEN_ENDING:
        api_tokens_revoke_for(
            actor=actor, entitlement_ids=[entitlement.pk], reason=reason, policy=policy
        )
    _record_change(
        entitlement,
        actor=actor,
        reason=reason,
        policy=policy,
        action=transition,
        audit_action=f"entitlement.{transition}",
        effective=effective,
        state_before=before,
        data={
            "from": before,
            "to": entitlement.state,
            "quantity_delta": None,
            "effective_date": effective,
            "contract": entitlement.contract_id,
        },
    )
    return entitlement


@transaction.atomic
def entitlements_bulk_transition(
    *,
    actor,
    contract_id: int,
    transition: str,
    reason: str,
    effective_date: date | None = None,
    kinds: list[str] | None = None,
    entitlement_ids: list[int] | None = None,
    policy: PolicyVersion | None = None,
    grace_days: int | None = None,
) -> int:
    """Apply one transition to every entitlement of a contract that allows it; returns the count.

    ``kinds`` narrows it to entitlements of those kinds (deprovisioning revokes kind by kind),
    ``entitlement_ids`` to those rows. ``policy`` is the policy that decided the change (a
    deprovisioning run passes its revocation policy, so ledger and audit name it; otherwise the
    lifecycle policy in force), and ``grace_days`` the grace it grants (the contract's days
    capped by that policy; otherwise the contract's days).

    Built for volume (a termination touching 10,000 entitlements): rows are locked in primary-key
    order, changed with one UPDATE per resulting state, and history, ledger and audit rows are
    written in bulk.
    """
    _require_perm(actor, ENTITLEMENT_PERM, "change entitlements")
    reason = _require_reason(reason)
    if transition not in ENTITLEMENT_TRANSITIONS:
        raise DomainError(f"'{transition}' is not an entitlement transition.")
    effective = effective_date or timezone.localdate()
    policy = policy or _lifecycle_policy(effective)
    sources = list(getattr(Entitlement, transition)._django_fsm.transitions)
    contract = Contract.objects.get(pk=contract_id)
    entitlements = list(
        Entitlement.objects.select_for_update(of=("self",))
        .filter(contract_id=contract_id, state__in=sources)
        .filter(**({"kind__in": kinds} if kinds is not None else {}))
        .filter(**({"pk__in": entitlement_ids} if entitlement_ids is not None else {}))
        .order_by("pk")
    )
    groups: dict[tuple, list[int]] = defaultdict(list)
    changed, ledger, specs = [], [], []
    for entitlement in entitlements:
        entitlement.contract = contract
        entitlement.as_of = effective
        method = getattr(entitlement, transition)
        if not can_proceed(method):
            continue
        before, was_holding = entitlement.state, entitlement.holds_quantity
        method()
        if entitlement.state == Entitlement.State.GRACE:
            entitlement.grace_ends_on = (
                effective + timedelta(days=grace_days) if grace_days is not None
                else _grace_end(entitlement, policy, effective)
            )  # fmt: skip
        elif entitlement.state != Entitlement.State.HELD:
            entitlement.grace_ends_on = None
        entitlement.version += 1
        changed.append(entitlement)
        groups[(entitlement.state, entitlement.held_from, entitlement.grace_ends_on)].append(
            entitlement.pk
        )
        delta = _quantity_delta(entitlement, was_holding)
        ledger.append(
            LedgerEntry(
                entitlement_id=entitlement.pk,
                contract_id=contract_id,
                effective_date=effective,
                quantity_delta=delta,
                state_after=entitlement.state,
                action=transition,
                actor=actor,
                reason=reason,
                policy_version=policy.label,
            )
        )
        specs.append(
            EventSpec(
                action=f"entitlement.{transition}",
                object_type="licensing.entitlement",
                object_id=str(entitlement.pk),
                reason=reason,
                policy_version=policy.label,
                data={
                    "from": before,
                    "to": entitlement.state,
                    "quantity_delta": delta,
                    "effective_date": effective.isoformat(),
                    "contract": contract_id,
                    "bulk": True,
                },
            )
        )
    # One UPDATE per outcome for speed; the history rows follow just below, in bulk.
    for (state, held_from, grace_ends_on), ids in groups.items():
        Entitlement.objects.filter(pk__in=ids).update(
            state=state, held_from=held_from, grace_ends_on=grace_ends_on, version=F("version") + 1
        )
    Entitlement.history.bulk_history_create(
        changed, update=True, default_user=actor, default_change_reason=reason, batch_size=2000
    )
    LedgerEntry.objects.bulk_create(ledger, batch_size=2000)
    audit_record_many(actor=actor, specs=specs)
    if transition in TOKEN_ENDING and changed:
        api_tokens_revoke_for(
            actor=actor, entitlement_ids=[e.pk for e in changed], reason=reason, policy=policy
        )
    return len(changed)


@transaction.atomic
def contract_transition(
    *,
    actor,
    contract_id: int,
    transition: str,
    reason: str,
    expected_version: int | None = None,
    on: date | None = None,
) -> Contract:
    """Move a contract through its lifecycle, judged on the business date `on` (today if not
    given): an expiry needs the term to have ended by then."""
    _require_perm(actor, CONTRACT_PERM, "change contracts")
    on = on or timezone.localdate()
    reason = _require_reason(reason)
    contract = Contract.objects.select_for_update(of=("self",)).get(pk=contract_id)
    if expected_version is not None and contract.version != expected_version:
        raise ConflictError(
            f"Contract {contract.number} was changed by someone else since you loaded it; "
            f"it is now {contract.get_status_display().lower()}. Reload and try again."
        )
    method = _check_transition(contract, transition, CONTRACT_TRANSITIONS, "contract", on=on)
    policy = _lifecycle_policy(on)
    before = contract.status
    method()
    contract.version += 1
    _stamp(contract, actor=actor, reason=reason)
    try:
        contract.save()
    except ConcurrentTransition:
        raise ConflictError(f"Contract {contract.number} changed while you worked.") from None
    audit_record(
        actor=actor,
        action=f"contract.{transition}",
        object_type="licensing.contract",
        object_id=contract.pk,
        reason=reason,
        policy_version=policy.label,
        data={"from": before, "to": contract.status, "number": contract.number},
    )
    return contract


def expire_ended_entitlements(*, actor=None, on: date | None = None) -> int:
    """Nightly: expire every entitlement whose end date has passed, one transaction each."""
    actor = actor or system_actor()
    on = on or timezone.localdate()
    expired = 0
    candidates = Entitlement.objects.filter(
        ends_on__lte=on, state__in=list(Entitlement.expire._django_fsm.transitions)
    ).values_list("pk", flat=True)
    for pk in candidates.iterator():
        try:
            entitlement_transition(
                actor=actor, entitlement_id=pk, transition="expire",
                reason="The entitlement's term ended.", effective_date=on,
            )  # fmt: skip
        except DomainError:
            continue  # Somebody moved it meanwhile, or it cannot end yet: nothing to do.
        expired += 1
    return expired
