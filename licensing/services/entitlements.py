"""Granting entitlements and changing how much, and until when, they grant."""

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record

from ..errors import DomainError
from ..models import (
    ConnectedSystem,
    Contract,
    ContractLine,
    Entitlement,
    Plan,
)
from ._common import (
    _effective,
    _lifecycle_policy,
    _record_change,
    _require_perm,
    _require_reason,
    _stamp,
)


@transaction.atomic
def entitlement_create(
    *,
    actor,
    contract: Contract,
    kind: str,
    name: str,
    scope: str,
    quantity: int,
    starts_on: date,
    ends_on: date,
    unit: str = "seats",
    key: str = "",
    renewal: str = Entitlement.Renewal.AUTO,
    contract_line: ContractLine | None = None,
    enforced_by: list[ConnectedSystem] | None = None,
    reason: str = "Granted under the contract",
    effective_date: date | None = None,
) -> Entitlement:
    _require_perm(actor, "licensing.add_entitlement", "grant entitlements")
    if ends_on <= starts_on:
        raise DomainError("The entitlement must end after it starts.")
    if contract.status in (Contract.Status.TERMINATED, Contract.Status.EXPIRED):
        raise DomainError(
            f"Contract {contract.number} is {contract.status}; it grants nothing new."
        )
    if starts_on < contract.term_start:
        raise DomainError(
            f"Contract {contract.number} starts on {contract.term_start}: "
            "an entitlement cannot start before its contract's term.",
            field="starts_on",
        )
    if ends_on > contract.term_end:
        raise DomainError(
            f"Contract {contract.number}'s term ends on {contract.term_end}: "
            "an entitlement cannot run past it.",
            field="ends_on",
        )
    if contract_line is not None and contract_line.contract_id != contract.pk:
        raise DomainError(
            f"That line belongs to another contract, not {contract.number}.", field="contract_line"
        )
    effective = effective_date or timezone.localdate()
    policy = _lifecycle_policy(effective)
    entitlement = Entitlement(
        contract=contract,
        contract_line=contract_line,
        kind=kind,
        name=name,
        scope=scope,
        key=key,
        quantity=quantity,
        unit=unit,
        starts_on=starts_on,
        ends_on=ends_on,
        renewal=renewal,
    )
    _stamp(entitlement, actor=actor, reason=reason)
    entitlement.save()
    if enforced_by:
        entitlement.enforced_by.set(enforced_by)
    _record_change(
        entitlement,
        actor=actor,
        reason=reason,
        policy=policy,
        action="grant",
        audit_action="entitlement.create",
        effective=effective,
        data={
            "contract": contract.pk,
            "kind": kind,
            "name": name,
            "quantity": quantity,
            "starts_on": starts_on,
            "ends_on": ends_on,
        },
    )
    return entitlement


@transaction.atomic
def entitlement_change_quantity(
    *, actor, entitlement_id: int, quantity: int, reason: str, effective_date: date | None = None
) -> Entitlement:
    """Change how much an entitlement grants; the ledger records the difference."""
    _require_perm(actor, "licensing.change_entitlement", "change entitlements")
    reason = _require_reason(reason)
    if quantity < 0:
        raise DomainError("A quantity cannot be negative.")
    entitlement = Entitlement.objects.select_for_update(of=("self",)).get(pk=entitlement_id)
    effective = _effective(entitlement.pk, effective_date or timezone.localdate())
    policy = _lifecycle_policy(effective)
    before = entitlement.quantity
    entitlement.quantity = quantity
    entitlement.version += 1
    _stamp(entitlement, actor=actor, reason=reason)
    entitlement.save(update_fields=["quantity", "version"])
    _record_change(
        entitlement,
        actor=actor,
        reason=reason,
        policy=policy,
        action="adjust",
        audit_action="entitlement.adjust",
        effective=effective,
        data={"from": before, "to": quantity, "quantity_delta": None},
    )
    return entitlement


@transaction.atomic
def entitlement_extend(
    *, actor, entitlement_id: int, days: int, reason: str, on: date | None = None
) -> Entitlement:
    """Move an entitlement's end later by whole days (a service-time credit), recorded as of
    the business date `on` (today if not given)."""
    _require_perm(actor, "licensing.change_entitlement", "change entitlements")
    reason = _require_reason(reason)
    if days < 1:
        raise DomainError("An extension is one day or more.")
    entitlement = Entitlement.objects.select_for_update(of=("self",)).get(pk=entitlement_id)
    effective = _effective(entitlement.pk, on or timezone.localdate())
    policy = _lifecycle_policy(effective)
    before = entitlement.ends_on
    entitlement.ends_on = before + timedelta(days=days)
    entitlement.version += 1
    _stamp(entitlement, actor=actor, reason=reason)
    entitlement.save(update_fields=["ends_on", "version"])
    _record_change(
        entitlement,
        actor=actor,
        reason=reason,
        policy=policy,
        action="extend",
        audit_action="entitlement.extend",
        effective=effective,
        data={"from": before, "to": entitlement.ends_on, "days": days},
    )
    return entitlement


@transaction.atomic
def contract_line_change_quantity(
    *, actor, contract_line_id: int, quantity: int, reason: str
) -> ContractLine:
    """What the customer buys from the next invoice on: a downgrade lowers it."""
    _require_perm(actor, "licensing.change_entitlement", "change what a contract sells")
    reason = _require_reason(reason)
    if quantity < 1:
        raise DomainError("A plan line keeps at least one unit; terminate to release it all.")
    line = ContractLine.objects.select_for_update().get(pk=contract_line_id)
    before = line.quantity
    line.quantity = quantity
    _stamp(line, actor=actor, reason=reason)
    line.save(update_fields=["quantity"])
    audit_record(
        actor=actor,
        action="contract_line.adjust",
        object_type="licensing.contractline",
        object_id=line.pk,
        reason=reason,
        data={"contract": line.contract_id, "from": before, "to": quantity},
    )
    return line


@transaction.atomic
def contract_line_change_plan(*, actor, contract_line_id: int, plan_id: int, reason: str):
    """Move a line to another plan of the same product at that plan's price, from the next
    invoice on (a move to a smaller plan)."""
    _require_perm(actor, "licensing.change_entitlement", "change what a contract sells")
    reason = _require_reason(reason)
    line = ContractLine.objects.select_for_update().select_related("plan").get(pk=contract_line_id)
    plan = Plan.objects.get(pk=plan_id)
    if plan.product_id is None or plan.product_id != line.plan.product_id:
        raise DomainError("A line moves only to another plan of the same product.")
    if plan.currency != line.contract.currency:
        raise DomainError("A line moves only to a plan in the contract's currency.")
    before = (line.plan.code, line.unit_price)
    line.plan, line.unit_price = plan, plan.unit_price
    _stamp(line, actor=actor, reason=reason)
    line.save(update_fields=["plan", "unit_price"])
    audit_record(
        actor=actor,
        action="contract_line.change_plan",
        object_type="licensing.contractline",
        object_id=line.pk,
        reason=reason,
        data={"contract": line.contract_id, "from": before[0], "to": plan.code,
              "unit_price_from": before[1], "unit_price_to": plan.unit_price},
    )  # fmt: skip
    return line
