"""Every write to the licensing core. One service is one transaction and one fact."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_fsm import ConcurrentTransition, can_proceed

from audit.services import EventSpec, audit_record, audit_record_many

from .errors import ActionForbidden, ConflictError, DomainError, TransitionNotAllowed
from .models import (
    CONTRACT_PERM,
    ENTITLEMENT_PERM,
    Bundle,
    BundleItem,
    ConnectedSystem,
    Contract,
    ContractLine,
    Customer,
    Entitlement,
    Invoice,
    InvoiceLine,
    LedgerEntry,
    Plan,
    PolicyVersion,
    Product,
)
from .money import is_currency
from .selectors import policy_in_force

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


def _check_transition(obj, name: str, allowed: tuple[str, ...], noun: str):
    if name not in allowed:
        raise DomainError(f"'{name}' is not a {noun} transition.")
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


def _effective(entitlement_id: int, effective_date: date | None) -> date:
    effective = effective_date or timezone.localdate()
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
    days = entitlement.contract.grace_days or int(policy.rules.get("default_grace_days", 30))
    return on + timedelta(days=days)


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
    method = _check_transition(entitlement, transition, ENTITLEMENT_TRANSITIONS, "entitlement")
    effective = _effective(entitlement.pk, effective_date)
    policy = _lifecycle_policy(effective)
    before, was_holding = entitlement.state, entitlement.holds_quantity

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

    delta = _quantity_delta(entitlement, was_holding)
    _record_change(
        entitlement,
        actor=actor,
        reason=reason,
        policy=policy,
        action=transition,
        audit_action=f"entitlement.{transition}",
        effective=effective,
        delta=delta,
        data={
            "from": before,
            "to": entitlement.state,
            "quantity_delta": delta,
            "effective_date": effective,
            "contract": entitlement.contract_id,
        },
    )
    return entitlement


@transaction.atomic
def entitlements_bulk_transition(
    *, actor, contract_id: int, transition: str, reason: str, effective_date: date | None = None
) -> int:
    """Apply one transition to every entitlement of a contract that allows it; returns the count.

    Built for volume (a termination touching 10,000 entitlements): rows are locked in primary-key
    order, changed with one UPDATE per resulting state, and history, ledger and audit rows are
    written in bulk.
    """
    _require_perm(actor, ENTITLEMENT_PERM, "change entitlements")
    reason = _require_reason(reason)
    if transition not in ENTITLEMENT_TRANSITIONS:
        raise DomainError(f"'{transition}' is not an entitlement transition.")
    effective = effective_date or timezone.localdate()
    policy = _lifecycle_policy(effective)
    sources = list(getattr(Entitlement, transition)._django_fsm.transitions)
    contract = Contract.objects.get(pk=contract_id)
    entitlements = list(
        Entitlement.objects.select_for_update(of=("self",))
        .filter(contract_id=contract_id, state__in=sources)
        .order_by("pk")
    )
    groups: dict[tuple, list[int]] = defaultdict(list)
    changed, ledger, specs = [], [], []
    for entitlement in entitlements:
        entitlement.contract = contract
        method = getattr(entitlement, transition)
        if not can_proceed(method):
            continue
        before, was_holding = entitlement.state, entitlement.holds_quantity
        method()
        if entitlement.state == Entitlement.State.GRACE:
            entitlement.grace_ends_on = _grace_end(entitlement, policy, effective)
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
    for (state, held_from, grace_ends_on), ids in groups.items():
        Entitlement.objects.filter(pk__in=ids).update(
            state=state, held_from=held_from, grace_ends_on=grace_ends_on, version=F("version") + 1
        )
    Entitlement.history.bulk_history_create(
        changed, update=True, default_user=actor, default_change_reason=reason, batch_size=2000
    )
    LedgerEntry.objects.bulk_create(ledger, batch_size=2000)
    audit_record_many(actor=actor, specs=specs)
    return len(changed)


@transaction.atomic
def contract_transition(
    *,
    actor,
    contract_id: int,
    transition: str,
    reason: str,
    expected_version: int | None = None,
) -> Contract:
    _require_perm(actor, CONTRACT_PERM, "change contracts")
    reason = _require_reason(reason)
    contract = Contract.objects.select_for_update(of=("self",)).get(pk=contract_id)
    if expected_version is not None and contract.version != expected_version:
        raise ConflictError(
            f"Contract {contract.number} was changed by someone else since you loaded it; "
            f"it is now {contract.get_status_display().lower()}. Reload and try again."
        )
    method = _check_transition(contract, transition, CONTRACT_TRANSITIONS, "contract")
    policy = _lifecycle_policy(timezone.localdate())
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


@transaction.atomic
def customer_create(*, actor, code: str, name: str, country: str = "", billing_email: str = "",
                    reason: str = "New customer") -> Customer:  # fmt: skip
    _require_perm(actor, "licensing.add_customer", "add customers")
    if Customer.objects.filter(code=code).exists():
        raise DomainError(f"A customer with code '{code}' already exists.")
    customer = Customer(code=code, name=name, country=country, billing_email=billing_email)
    _stamp(customer, actor=actor, reason=reason)
    customer.save()
    audit_record(
        actor=actor,
        action="customer.create",
        object_type="licensing.customer",
        object_id=customer.pk,
        reason=reason,
        data={"code": code, "name": name},
    )
    return customer


@dataclass(frozen=True)
class LineSpec:
    plan: Plan
    quantity: int
    unit_price: Decimal | None = None


@transaction.atomic
def contract_create(
    *,
    actor,
    customer: Customer,
    number: str,
    term_start: date,
    term_end: date,
    lines: list[LineSpec],
    account_manager=None,
    billing_anchor: date | None = None,
    prepaid: bool = False,
    commitment_years: int = 1,
    grace_days: int = 0,
    currency: str | None = None,
    reason: str = "New contract",
) -> Contract:
    _require_perm(actor, "licensing.add_contract", "create contracts")
    if term_end <= term_start:
        raise DomainError("The term must end after it starts.")
    if not lines:
        raise DomainError("A contract needs at least one plan line.")
    currency = currency or lines[0].plan.currency
    if not is_currency(currency):
        raise DomainError(f"'{currency}' is not an ISO 4217 currency code in use.")
    if any(line.plan.currency != currency for line in lines):
        raise DomainError(f"Every plan on the contract must be priced in {currency}.")
    if Contract.objects.filter(number=number).exists():
        raise DomainError(f"Contract number {number} is already taken.")
    contract = Contract(
        number=number,
        customer=customer,
        account_manager=account_manager,
        currency=currency,
        term_start=term_start,
        term_end=term_end,
        billing_anchor=billing_anchor or term_start,
        prepaid=prepaid,
        commitment_years=commitment_years,
        grace_days=grace_days,
    )
    _stamp(contract, actor=actor, reason=reason)
    contract.save()
    for spec in lines:
        line = ContractLine(
            contract=contract,
            plan=spec.plan,
            quantity=spec.quantity,
            unit_price=spec.plan.unit_price if spec.unit_price is None else spec.unit_price,
        )
        _stamp(line, actor=actor, reason=reason)
        line.save()
    audit_record(
        actor=actor,
        action="contract.create",
        object_type="licensing.contract",
        object_id=contract.pk,
        reason=reason,
        data={
            "number": number,
            "customer": customer.pk,
            "term_start": term_start,
            "term_end": term_end,
            "lines": [
                {"plan": s.plan.code, "quantity": s.quantity, "unit_price": s.unit_price}
                for s in lines
            ],
        },
    )
    return contract


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
        delta=0,
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
    effective = _effective(entitlement.pk, effective_date)
    policy = _lifecycle_policy(effective)
    before = entitlement.quantity
    delta = (quantity - before) if entitlement.holds_quantity else 0
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
        delta=delta,
        data={"from": before, "to": quantity, "quantity_delta": delta},
    )
    return entitlement


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


def _catalogue_save(instance, *, actor, reason: str, action: str, data: dict):
    _stamp(instance, actor=actor, reason=reason)
    instance.full_clean()
    instance.save()
    audit_record(
        actor=actor,
        action=action,
        object_type=f"licensing.{instance._meta.model_name}",
        object_id=instance.pk,
        reason=reason,
        data=data,
    )
    return instance


@transaction.atomic
def product_create(*, actor, sku: str, name: str, description: str = "",
                   reason: str = "New product") -> Product:  # fmt: skip
    _require_perm(actor, "licensing.add_product", "add products")
    product = Product(sku=sku, name=name, description=description)
    return _catalogue_save(
        product, actor=actor, reason=reason, action="product.create", data={"sku": sku}
    )


@transaction.atomic
def plan_create(*, actor, reason: str = "New plan", **fields) -> Plan:
    _require_perm(actor, "licensing.add_plan", "add plans")
    if not is_currency(fields.get("currency", "")):
        raise DomainError(f"'{fields.get('currency')}' is not an ISO 4217 currency code in use.")
    plan = Plan(**fields)
    data = {
        "code": plan.code,
        "currency": plan.currency,
        "unit_price": plan.unit_price,
        "billing_cycle": plan.billing_cycle,
    }
    return _catalogue_save(plan, actor=actor, reason=reason, action="plan.create", data=data)


@transaction.atomic
def bundle_create(*, actor, code: str, name: str, items: list[tuple[Product, int, Decimal]],
                  reason: str = "New bundle") -> Bundle:  # fmt: skip
    _require_perm(actor, "licensing.add_bundle", "add bundles")
    if not items:
        raise DomainError("A bundle needs at least one product.")
    bundle = _catalogue_save(
        Bundle(code=code, name=name),
        actor=actor,
        reason=reason,
        action="bundle.create",
        data={"code": code, "items": [[p.sku, q, price] for p, q, price in items]},
    )
    for product, quantity, price in items:
        item = BundleItem(bundle=bundle, product=product, quantity=quantity, standalone_price=price)
        _stamp(item, actor=actor, reason=reason)
        item.save()
    return bundle


@transaction.atomic
def entitlement_extend(*, actor, entitlement_id: int, days: int, reason: str) -> Entitlement:
    """Move an entitlement's end later by whole days (a service-time credit)."""
    _require_perm(actor, "licensing.change_entitlement", "change entitlements")
    reason = _require_reason(reason)
    if days < 1:
        raise DomainError("An extension is one day or more.")
    entitlement = Entitlement.objects.select_for_update(of=("self",)).get(pk=entitlement_id)
    effective = _effective(entitlement.pk, None)
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
        delta=0,
        data={"from": before, "to": entitlement.ends_on, "days": days},
    )
    return entitlement


@transaction.atomic
def invoice_record(
    *,
    actor,
    contract: Contract,
    number: str,
    period_start: date,
    period_end: date,
    lines: list[tuple[ContractLine, int, Decimal]],
    issued_on: date,
    paid_on: date | None = None,
    reason: str = "Invoice recorded from billing",
) -> Invoice:
    """Record what billing invoiced (and whether it was paid), the base of every credit."""
    _require_perm(actor, "licensing.add_invoice", "record invoices")
    if period_end <= period_start:
        raise DomainError("An invoice period must end after it starts.")
    invoice = Invoice(
        contract=contract, number=number, currency=contract.currency, period_start=period_start,
        period_end=period_end, issued_on=issued_on, paid_on=paid_on,
    )  # fmt: skip
    _stamp(invoice, actor=actor, reason=reason)
    invoice.save()
    for contract_line, quantity, amount in lines:
        if contract_line.contract_id != contract.pk:
            raise DomainError("Invoice lines must belong to the invoiced contract.")
        line = InvoiceLine(
            invoice=invoice, contract_line=contract_line, quantity=quantity, amount=amount
        )
        _stamp(line, actor=actor, reason=reason)
        line.save()
    audit_record(
        actor=actor,
        action="invoice.record",
        object_type="licensing.invoice",
        object_id=invoice.pk,
        reason=reason,
        data={"number": number, "period_start": period_start, "period_end": period_end,
              "paid_on": paid_on, "total": sum((a for _, _, a in lines), Decimal(0))},
    )  # fmt: skip
    return invoice


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
