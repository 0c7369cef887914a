"""Untimed setup. Bulk inserts mirror what the services write, so history, ledger and audit hold."""

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from audit.services import EventSpec, audit_record_many
from licensing import services
from licensing.models import Contract, Entitlement, LedgerEntry, Plan
from licensing.selectors import policy_in_force

TERM = (date(2025, 1, 1), date(2028, 1, 1))
BATCH = 2000


def plan_for_bench(*, actor) -> Plan:
    product = services.product_create(actor=actor, sku="BENCH", name="Bench Analytics")
    return services.plan_create(
        actor=actor,
        code="BENCH-STD-USD-M",
        name="Bench Standard (monthly)",
        product=product,
        tier=Plan.Tier.STANDARD,
        currency="USD",
        billing_cycle=Plan.BillingCycle.MONTHLY,
        pricing_model=Plan.PricingModel.PER_SEAT,
        unit_price=Decimal("30.00"),
    )


def active_contract(*, actor, plan: Plan, number: str, entitlements: int) -> Contract:
    """An active contract with `entitlements` active one-seat entitlements, each with its trail.

    Entitlements are granted in bulk with the same rows `entitlement_create` writes (history '+',
    a 'grant' ledger entry, an `entitlement.create` event), then activated by the bulk service.
    """
    customer = services.customer_create(actor=actor, code=f"bench-{number.lower()}", name=number)
    contract = services.contract_create(
        actor=actor,
        customer=customer,
        number=number,
        term_start=TERM[0],
        term_end=TERM[1],
        lines=[services.LineSpec(plan=plan, quantity=entitlements)],
    )
    services.contract_transition(
        actor=actor, contract_id=contract.pk, transition="activate", reason="Bench setup"
    )
    _grant_in_bulk(actor=actor, contract=contract, count=entitlements)
    services.entitlements_bulk_transition(
        actor=actor, contract_id=contract.pk, transition="activate", reason="Bench setup"
    )
    return contract


@transaction.atomic
def _grant_in_bulk(*, actor, contract: Contract, count: int) -> None:
    reason = "Granted under the contract"
    today = timezone.localdate()
    policy = policy_in_force(kind="lifecycle", on=today).label
    line = contract.lines.get()
    granted = Entitlement.objects.bulk_create(
        [
            Entitlement(
                contract=contract,
                contract_line=line,
                kind=Entitlement.Kind.SEAT_POOL,
                name=f"Analyst seat {n:05d}",
                scope="Bench Analytics",
                quantity=1,
                starts_on=TERM[0],
                ends_on=TERM[1],
            )
            for n in range(count)
        ],
        batch_size=BATCH,
    )
    Entitlement.history.bulk_history_create(
        granted, default_user=actor, default_change_reason=reason, batch_size=BATCH
    )
    LedgerEntry.objects.bulk_create(
        [
            LedgerEntry(
                entitlement=e,
                contract=contract,
                effective_date=today,
                quantity_delta=0,
                state_after=e.state,
                action="grant",
                actor=actor,
                reason=reason,
                policy_version=policy,
            )
            for e in granted
        ],
        batch_size=BATCH,
    )
    audit_record_many(
        actor=actor,
        specs=[
            EventSpec(
                action="entitlement.create",
                object_type="licensing.entitlement",
                object_id=str(e.pk),
                reason=reason,
                policy_version=policy,
                data={
                    "contract": contract.pk,
                    "kind": e.kind,
                    "name": e.name,
                    "quantity": e.quantity,
                    "starts_on": e.starts_on,
                    "ends_on": e.ends_on,
                },
            )
            for e in granted
        ],
    )


def audit_events(*, actor, count: int, batch: int = 5000) -> None:
    """Append `count` realistic events to the chain through the audit service, `batch` at a time."""
    for start in range(0, count, batch):
        audit_record_many(
            actor=actor,
            specs=[
                EventSpec(
                    action="entitlement.adjust",
                    object_type="licensing.entitlement",
                    object_id=str(n),
                    reason="Seat count reviewed with the customer",
                    policy_version="lifecycle/v1",
                    data={
                        "from": n % 50,
                        "to": n % 50 + 1,
                        "quantity_delta": 1,
                        "contract": n // 100,
                        "effective_date": "2025-06-01",
                    },
                )
                for n in range(start, min(start + batch, count))
            ],
        )
