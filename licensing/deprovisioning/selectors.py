"""Every read deprovisioning's API, tasks and pages need."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Max, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from ..models import Assignment, ConnectedSystem, Contract, Entitlement, PolicyVersion
from .models import (
    BlackoutWindow,
    Delivery,
    DeprovisioningHold,
    DeprovisioningRun,
    Reconciliation,
    ReconciliationFinding,
)


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


def run_entitlements(run: DeprovisioningRun) -> QuerySet[Entitlement]:
    """What the run takes back: its one entitlement, or everything its contract granted."""
    entitlements = Entitlement.objects.filter(contract_id=run.contract_id)
    if run.entitlement_id:
        entitlements = entitlements.filter(pk=run.entitlement_id)
    return entitlements


def run_reason_prefix(run: DeprovisioningRun) -> str:
    """How every transition a run makes begins its reason, so the ledger names the run."""
    return f"Deprovisioning run {run.pk}:"


def run_taken(run: DeprovisioningRun) -> QuerySet[Entitlement]:
    """What the run itself moved to grace or revoked (its ledger entries name it): not what
    another run, a person or the nightly expiry had taken already. A rollback gives back this."""
    return (
        run_entitlements(run).filter(ledger__reason__startswith=run_reason_prefix(run)).distinct()
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
    entitlements = (
        run_entitlements(run).exclude(state=Entitlement.State.PENDING)
        .prefetch_related("enforced_by")
    )  # fmt: skip
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
        Delivery.objects.filter(state=Delivery.State.ESCALATED, closed_at__isnull=True)
        .select_related("run__contract", "system", "entitlement", "assignment")
        .order_by("escalated_at", "pk")
    )


def assignments_of(entitlement: Entitlement) -> QuerySet[Assignment]:
    return entitlement.assignments.select_related("system").order_by("pk")


def systems() -> QuerySet[ConnectedSystem]:
    return ConnectedSystem.objects.order_by("name")


def active_holds(contract_id: int) -> QuerySet[DeprovisioningHold]:
    return DeprovisioningHold.objects.filter(contract_id=contract_id, lifted_at__isnull=True)


# Pages -------------------------------------------------------------------------------------
# What a person reads: names rather than ids, each query count fixed whatever the rows.


@dataclass(frozen=True)
class PlanStep:
    """One line of a plan a person reads: which entitlement, where, who, what, when."""

    entitlement: str
    kind: str
    system: str
    holder: str
    action: str
    scheduled_for: date
    state: str = ""


@dataclass(frozen=True)
class EntitlementStep:
    entitlement: str
    kind: str
    state: str
    action: str
    on: date


@dataclass
class TerminationPreview:
    """The dry run of a termination that has not happened: nothing here is written."""

    policy: PolicyVersion
    effective_date: date
    execute_on: date
    grace_days: int
    stops_on: date
    entitlements: list[EntitlementStep]
    steps: list[PlanStep]
    holds: list[DeprovisioningHold]
    renewals_stopped: int
    deferred_by_blackout: bool
    open_run: DeprovisioningRun | None
    recipients: list[str] = field(default_factory=list)
    # Entitlements the run cannot take back now (on hold: revocation does not take an
    # entitlement from that state), so the run would end failed until a person acts.
    held: list[str] = field(default_factory=list)
    # How many entitlements the run takes back, and the systems told (by name).
    revoked: int = 0
    systems: list[str] = field(default_factory=list)
    # Open runs that take back one entitlement of the contract (an escalated breach case).
    entitlement_runs: list[DeprovisioningRun] = field(default_factory=list)


def holder_words(assignment: Assignment) -> str:
    """The holder as people know them: its name, and the group a role is held through."""
    if assignment.group_id:
        return f"{assignment.holder_label} in {assignment.group_label}"
    return assignment.holder_label


def _action_words(*, protocol: str, action: str, delete: bool, group_id: str) -> str:
    if action == "review":
        return "Nothing can be sent: a person must act here"
    if protocol == ConnectedSystem.Protocol.SCIM2:
        if action == Delivery.Action.RESTORE:
            return "Add back to the group" if group_id else "Reactivate the user"
        if group_id:
            return "Remove from the group"
        return "Delete the user" if delete else "Deactivate the user"
    if protocol == ConnectedSystem.Protocol.WEBHOOK:
        kind = "revoked" if action == Delivery.Action.REVOKE else "restored"
        return f"Send entitlement.{kind}"
    return "Nothing can be sent: a person must act here"


def _unassigned_steps(entitlements, covered: set, when: date) -> list[PlanStep]:
    steps = []
    for entitlement in entitlements:
        for system in entitlement.enforced_by.all():
            if (entitlement.pk, system.pk) not in covered:
                steps.append(
                    PlanStep(
                        entitlement.name,
                        entitlement.get_kind_display(),
                        system.name,
                        "no holder assigned",
                        _action_words(protocol="", action="review", delete=False, group_id=""),
                        when,
                    )  # fmt: skip
                )
    return steps


def termination_preview(
    *, contract: Contract, effective_date: date, on: date
) -> TerminationPreview:
    """What terminating ``contract`` effective ``effective_date`` would do, judged on ``on``.

    Worked out with the services' own helpers and the policy in force, so the plan a person
    confirms is the plan that runs.
    """
    from . import services

    policy = services.revocation_policy(on)
    rules = policy.rules
    due = max(effective_date, on + timedelta(days=int(rules.get("notice_lead_days", 0))))
    execute_on = services._execution_day(contract.pk, due)
    grace = services._grace_days(contract, policy)
    stops_on = execute_on + timedelta(days=grace)
    delete = bool(rules.get("delete_at_identity_providers", False))
    order = services.revoke_order(policy)
    live = list(
        Entitlement.objects.filter(contract=contract)
        .exclude(state__in=[Entitlement.State.REVOKED, Entitlement.State.EXPIRED])
        .prefetch_related(
            Prefetch("assignments", queryset=Assignment.objects.select_related("system")),
            "enforced_by",
        )
    )  # fmt: skip
    live.sort(key=lambda e: (order.index(e.kind), e.pk))
    what = f"Grace of {grace} days, then revoke" if grace else "Revoke"
    never = "Never activated: nothing to take back"
    on_hold = "On hold: cannot be revoked until the hold is released; the run ends failed"
    actions = {Entitlement.State.PENDING: never, Entitlement.State.HELD: on_hold}
    steps, covered, told = [], set(), set()
    for e in live:
        if e.state == Entitlement.State.PENDING:
            continue
        for a in e.assignments.all():
            if not a.system.protocol:
                continue
            covered.add((e.pk, a.system_id))
            idp = a.system.kind == ConnectedSystem.Kind.IDENTITY_PROVIDER
            words = _action_words(protocol=a.system.protocol, action="revoke",
                                  delete=delete and idp, group_id=a.group_id)  # fmt: skip
            if e.state == Entitlement.State.HELD:
                words = "Nothing is sent while the entitlement is on hold"
            else:
                told.add(a.system.name)
            steps.append(
                PlanStep(
                    e.name, e.get_kind_display(), a.system.name, holder_words(a), words, stops_on
                )  # fmt: skip
            )
    # The runs a termination would meet: a contract-wide one it joins (as ``run_start`` does,
    # a failed run is not joined), and one-entitlement runs it goes on beside.
    open_runs = list(
        DeprovisioningRun.objects.filter(
            contract_id=contract.pk, state__in=DeprovisioningRun.JOINABLE_STATES
        ).select_related("entitlement").defer("notice_pdf").order_by("-created_at", "-pk")
    )  # fmt: skip
    open_run = next((r for r in open_runs if r.entitlement_id is None), None)
    renewing = sum(e.renewal != Entitlement.Renewal.NONE for e in live)
    taken = [e for e in live if e.state not in actions]
    return TerminationPreview(
        policy=policy, effective_date=effective_date, execute_on=execute_on, grace_days=grace,
        stops_on=stops_on,
        entitlements=[
            EntitlementStep(
                e.name, e.get_kind_display(), e.get_state_display(),
                actions.get(e.state, what), stops_on,
            )  # fmt: skip
            for e in live
        ],
        steps=steps + _unassigned_steps(
            [e for e in live if e.state != Entitlement.State.PENDING], covered, stops_on
        ),
        holds=list(active_holds(contract.pk).select_related("placed_by")),
        renewals_stopped=renewing if rules.get("suppress_renewal", True) else 0,
        deferred_by_blackout=execute_on != due, open_run=open_run,
        held=[e.name for e in live if e.state == Entitlement.State.HELD],
        revoked=len(taken), systems=sorted(told),
        entitlement_runs=[r for r in open_runs if r.entitlement_id is not None],
    )  # fmt: skip


def run_page(*, pk) -> DeprovisioningRun:
    """A run with everything its page shows, in a fixed number of queries."""
    deliveries = Delivery.objects.select_related(
        "entitlement", "system", "assignment", "covered_by"
    ).order_by("scheduled_for", "pk")
    return (
        DeprovisioningRun.objects.select_related(
            "contract__customer", "contract__account_manager", "policy", "created_by",
            "rollback_requested_by", "rollback_approved_by", "entitlement",
        )
        .defer("notice_pdf")
        .prefetch_related(Prefetch("deliveries", queryset=deliveries))
        .get(pk=pk)
    )  # fmt: skip


def run_steps(run: DeprovisioningRun) -> list[PlanStep]:
    """The run's plan for a person: its deliveries, and every system nothing can be sent to."""
    steps, covered = [], set()
    for d in run.deliveries.all():
        covered.add((d.entitlement_id, d.system_id))
        steps.append(PlanStep(
            d.entitlement.name, d.entitlement.get_kind_display(), d.system.name,
            holder_words(d.assignment),
            _action_words(protocol=d.system.protocol, action=d.action, delete=d.delete,
                          group_id=d.assignment.group_id),
            d.scheduled_for, d.get_state_display(),
        ))  # fmt: skip
    # What the run takes: what was still held when it started, or what it moved since (its
    # transitions' ledger entries name it); not what was revoked before it.
    gone = [Entitlement.State.REVOKED, Entitlement.State.EXPIRED]
    entitlements = (
        run_entitlements(run)
        .exclude(state=Entitlement.State.PENDING)
        .filter(~Q(state__in=gone) | Q(ledger__reason__startswith=run_reason_prefix(run)))
        .distinct().prefetch_related("enforced_by").order_by("pk")
    )  # fmt: skip
    when = run.execute_on + timedelta(days=run.grace_days)
    return steps + _unassigned_steps(entitlements, covered, when)


def run_waiting_on(run: DeprovisioningRun) -> list[Entitlement]:
    """While a run executes, or after it failed: what of its contract is not revoked (in grace,
    or in a state revocation does not leave, such as held), so the page says what the run waits
    for and what a person must act on."""
    if run.state not in (DeprovisioningRun.State.EXECUTING, DeprovisioningRun.State.FAILED):
        return []
    from .services import NOTHING_TO_TAKE

    return list(
        run_entitlements(run).exclude(state__in=NOTHING_TO_TAKE)
        .order_by("pk")
    )  # fmt: skip


def run_never_activated(run: DeprovisioningRun) -> list[Entitlement]:
    """Entitlements the run covers that are still pending: they granted nothing, so the run takes
    nothing from them and tells no system about them."""
    return list(
        run_entitlements(run).filter(state=Entitlement.State.PENDING)
        .order_by("pk")
    )  # fmt: skip


def run_events(run: DeprovisioningRun, *, limit: int = 50):
    """The run's own history, newest first: each state it passed and why."""
    return (
        run.history.select_related("history_user").defer("notice_sha256")
        .order_by("-history_date", "-history_id")[:limit]
    )  # fmt: skip


def runs_of_contract(contract_id: int) -> QuerySet[DeprovisioningRun]:
    return (
        DeprovisioningRun.objects.filter(contract_id=contract_id)
        .defer("notice_pdf")
        .order_by("-created_at", "-pk")
    )


def open_runs() -> QuerySet[DeprovisioningRun]:
    return (
        DeprovisioningRun.objects.filter(state__in=DeprovisioningRun.OPEN_STATES)
        .select_related("contract__customer").defer("notice_pdf").order_by("execute_on", "pk")
    )  # fmt: skip


def recent_runs() -> QuerySet[DeprovisioningRun]:
    return (
        DeprovisioningRun.objects.select_related("contract__customer").defer("notice_pdf")
        .order_by("-created_at", "-pk")
    )  # fmt: skip


def holds_of_contract(contract_id: int) -> QuerySet[DeprovisioningHold]:
    return (
        DeprovisioningHold.objects.filter(contract_id=contract_id)
        .select_related("placed_by", "lifted_by")
        .order_by(F("lifted_at").desc(nulls_first=True), "-placed_at", "-pk")
    )  # active ones first


def blackouts_of_contract(contract_id: int) -> QuerySet[BlackoutWindow]:
    return BlackoutWindow.objects.filter(contract_id=contract_id).order_by("starts_on", "pk")


def open_findings() -> QuerySet[ReconciliationFinding]:
    """Reconciliation's disagreements that a person must look at."""
    return (
        ReconciliationFinding.objects.filter(state=ReconciliationFinding.State.OPEN)
        .select_related("reconciliation__system", "assignment__entitlement__contract__customer")
        .order_by("reconciliation__created_at", "pk")
    )  # fmt: skip


def review_deliveries() -> QuerySet[Delivery]:
    return escalated_deliveries().select_related("run__contract__customer", "policy")


def held_contract_ids(contract_ids: set[int]) -> set[int]:
    """Which of these contracts are under an active hold: one query for a whole list."""
    return set(
        DeprovisioningHold.objects.filter(contract_id__in=contract_ids, lifted_at__isnull=True)
        .values_list("contract_id", flat=True)
    )  # fmt: skip


def system_list() -> QuerySet[ConnectedSystem]:
    last = Reconciliation.objects.filter(system=OuterRef("pk")).order_by("-created_at", "-pk")
    return systems().annotate(
        holders=Count("assignments", distinct=True),
        last_reconciled=Subquery(last.values("created_at")[:1]),
        last_drift=Subquery(last.values("drift")[:1]),
    )


def system_holders(system: ConnectedSystem) -> QuerySet[Assignment]:
    return (
        Assignment.objects.filter(system=system)
        .select_related("entitlement__contract__customer").order_by("pk")
    )  # fmt: skip


def system_reconciliations(system: ConnectedSystem, *, limit: int = 10):
    findings = ReconciliationFinding.objects.select_related("assignment")
    return (
        Reconciliation.objects.filter(system=system).select_related("started_by")
        .prefetch_related(Prefetch("findings", queryset=findings))
        .order_by("-created_at", "-pk")[:limit]
    )  # fmt: skip


def revocation_policies() -> QuerySet[PolicyVersion]:
    return (
        PolicyVersion.objects.filter(kind=PolicyVersion.Kind.REVOCATION)
        .select_related("drafted_by", "published_by").order_by("-number")
    )  # fmt: skip


# The dashboard -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RevokeTime:
    run: int
    contract: str
    due: datetime
    confirmed: datetime

    @property
    def duration(self) -> timedelta:
        return max(self.confirmed - self.due, timedelta(0))


def _due_moment(run_execute_on: date, grace_days: int, created_at: datetime) -> datetime:
    """When revocation became due: the start of the day it was to stop, never before the run
    existed (a termination recorded at noon, effective today, was due at noon)."""
    day = run_execute_on + timedelta(days=grace_days)
    start = timezone.make_aware(datetime.combine(day, time.min))
    return max(start, created_at)


def revoke_times(*, since: datetime | None = None) -> list[RevokeTime]:
    """Time to revoke of every completed run: from due until the last system confirmed."""
    runs = DeprovisioningRun.objects.filter(state=DeprovisioningRun.State.COMPLETED)
    if since is not None:
        runs = runs.filter(completed_at__gte=since)
    rows = (
        runs.annotate(last_confirmed=Max(
            "deliveries__confirmed_at",
            filter=Q(deliveries__action=Delivery.Action.REVOKE,
                     deliveries__reconciliation__isnull=True),
        ))  # fmt: skip
        .filter(last_confirmed__isnull=False)
        .values_list("pk", "contract__number", "execute_on", "grace_days", "created_at",
                     "last_confirmed")
        .order_by("completed_at", "pk")
    )  # fmt: skip
    return [
        RevokeTime(pk, number, _due_moment(execute_on, grace, created), confirmed)
        for pk, number, execute_on, grace, created, confirmed in rows
    ]


def percentile(durations: list[timedelta], p: int) -> timedelta | None:
    """Nearest-rank percentile (p in 1..100): a duration that actually happened."""
    if not durations:
        return None
    ordered = sorted(durations)
    rank = -(-p * len(ordered) // 100)  # ceil without floats
    return ordered[max(rank, 1) - 1]


def median(durations: list[timedelta]) -> timedelta | None:
    if not durations:
        return None
    ordered, middle = sorted(durations), len(durations) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def runs_by_state() -> list[tuple[str, str, int]]:
    counts = dict(DeprovisioningRun.objects.values_list("state").annotate(n=Count("id")).order_by())
    return [(s, label, counts.get(s, 0)) for s, label in DeprovisioningRun.State.choices]


def drift_by_day(*, since: date, until: date) -> list[tuple[date, int, int]]:
    """Drift found and repaired by reconciliation, per day from ``since`` to ``until``."""
    rows = (
        Reconciliation.objects.filter(created_at__date__gte=since, created_at__date__lte=until)
        .annotate(day=TruncDate("created_at")).values("day")
        .annotate(found=Sum("drift"), repaired=Sum("repaired")).order_by("day")
    )  # fmt: skip
    by_day = {r["day"]: (r["found"] or 0, r["repaired"] or 0) for r in rows}
    days = (until - since).days + 1
    return [(since + timedelta(d), *by_day.get(since + timedelta(d), (0, 0))) for d in range(days)]


def escalation_counts() -> dict[str, int]:
    counts = Delivery.objects.aggregate(
        waiting=Count("id", filter=Q(state=Delivery.State.ESCALATED, closed_at__isnull=True)),
        ever=Count("id", filter=Q(escalated_at__isnull=False)),
    )
    counts["findings"] = open_findings().count()
    return counts


def drift_totals() -> dict[str, int]:
    totals = Reconciliation.objects.aggregate(found=Sum("drift"), repaired=Sum("repaired"),
                                              runs=Count("id"))  # fmt: skip
    return {k: v or 0 for k, v in totals.items()}
