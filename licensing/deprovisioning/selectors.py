"""Every read deprovisioning's API, tasks and (later) pages need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Prefetch, QuerySet

from ..models import Assignment, ConnectedSystem, Entitlement
from .models import Delivery, DeprovisioningHold, DeprovisioningRun


@dataclass(frozen=True)
class PlannedAction:
    entitlement: int
    system: int
    external_id: str
    action: str
    scheduled_for: date


def run_detail(*, base: QuerySet[DeprovisioningRun], pk) -> DeprovisioningRun:
    return (
        base.select_related("contract", "policy")
        .prefetch_related(
            Prefetch("deliveries", queryset=Delivery.objects.order_by("scheduled_for", "pk"))
        )
        .get(pk=pk)
    )


def run_plan(run: DeprovisioningRun) -> list[PlannedAction]:
    """The dry run: each holder at each system, what happens there, and when.

    Planned deliveries, plus every system an entitlement names in ``enforced_by`` where no holder
    is assigned: nothing can be sent there, so the plan says ``review`` for a person.
    """
    plan = [
        PlannedAction(d.entitlement_id, d.system_id, d.external_id, d.action, d.scheduled_for)
        for d in run.deliveries.all()
    ]
    covered = {(p.entitlement, p.system) for p in plan}
    when = run.execute_on + timedelta(days=run.grace_days)
    entitlements = Entitlement.objects.filter(contract_id=run.contract_id).prefetch_related(
        "enforced_by"
    )
    for entitlement in entitlements.order_by("pk"):
        for system in entitlement.enforced_by.all():
            if (entitlement.pk, system.pk) not in covered:
                plan.append(PlannedAction(entitlement.pk, system.pk, "", "review", when))
    return plan


def open_run_of(contract_id: int) -> DeprovisioningRun | None:
    return (
        DeprovisioningRun.objects.filter(contract_id=contract_id).order_by("-created_at", "-pk")
        .first()
    )  # fmt: skip


def escalated_deliveries() -> QuerySet[Delivery]:
    """The review queue: deliveries that reached the ceiling, or failed beyond retrying."""
    return (
        Delivery.objects.filter(state=Delivery.State.ESCALATED)
        .select_related("run__contract", "system", "entitlement")
        .order_by("escalated_at", "pk")
    )


def assignments_of(entitlement: Entitlement) -> QuerySet[Assignment]:
    return entitlement.assignments.select_related("system").order_by("pk")


def systems() -> QuerySet[ConnectedSystem]:
    return ConnectedSystem.objects.order_by("name")


def active_holds(contract_id: int) -> QuerySet[DeprovisioningHold]:
    return DeprovisioningHold.objects.filter(contract_id=contract_id, lifted_at__isnull=True)
