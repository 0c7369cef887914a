"""Detection: runs of over-use become cases, new evidence joins the open case."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from audit.services import EventSpec, audit_record_many
from licensing.errors import ActionForbidden
from licensing.models import Entitlement

from ..detection import Run, overuse_runs
from ..models import BreachCase, CaseEvent, Severity
from ..policy import breach_policy, breach_rules
from ._common import may_manage, require_reason, system

BATCH = 2000


@dataclass
class Detection:
    opened: list[int] = field(default_factory=list)
    updated: list[int] = field(default_factory=list)


def breach_detect_refusal(actor) -> str | None:
    if not may_manage(actor):
        return "Your role may not run breach detection."
    return None


def severity_of(quantity: int, peak: int) -> str:
    """Low up to 10% over, medium up to 50%, high above (whole numbers, no rounding)."""
    over = (peak - quantity) * 100
    if over <= 10 * quantity:
        return Severity.LOW
    if over <= 50 * quantity:
        return Severity.MEDIUM
    return Severity.HIGH


def entitlement_snapshot(entitlement: Entitlement) -> dict:
    """The entitlement as it stood when the evidence was taken."""
    contract = entitlement.contract
    return {
        "id": entitlement.pk, "name": entitlement.name, "kind": entitlement.kind,
        "quantity": entitlement.quantity, "unit": entitlement.unit,
        "starts_on": entitlement.starts_on.isoformat(),
        "ends_on": entitlement.ends_on.isoformat(), "state": entitlement.state,
        "contract": contract.number, "contract_id": contract.pk,
        "contract_line": entitlement.contract_line_id, "customer": contract.customer.name,
        "customer_id": contract.customer_id,
    }  # fmt: skip


def _evidence(entitlement, runs: list[Run], *, rules, policy, on: date) -> dict:
    """The opening run (the earliest) at the top, every run listed, as the issue defines."""
    opening = runs[0]
    return {
        "metric": opening.metric,
        "quantity": entitlement.quantity,
        "peak": opening.peak,
        "first_day_over": opening.first_day.isoformat(),
        "days_over": opening.days,
        "daily": opening.as_evidence()["daily"],
        "tolerance": str(rules.tolerance),
        "consecutive_days": rules.consecutive_days,
        "policy": policy.label,
        "taken_on": on.isoformat(),
        "entitlement": entitlement_snapshot(entitlement),
        "runs": [run.as_evidence() for run in runs],
    }


def _known(case: BreachCase) -> dict[tuple[str, str], int]:
    return {
        (run["metric"], run["first_day_over"]): run["days_over"]
        for run in case.evidence.get("runs", [])
    }


@transaction.atomic
def breach_detect(
    *, actor=None, on: date, entitlement_ids: Iterable[int] | None = None,
    reason: str = "Nightly breach detection",
) -> Detection:  # fmt: skip
    """Open a case for each entitlement with a run of over-use (usage above quantity x
    tolerance on the policy's consecutive days, anywhere in its period) and no open case;
    join new or longer runs to the open case. Runs already judged in a closed case are not
    opened again. Written in bulk: history, timeline and one audit event per case."""
    actor = actor or system()
    refusal = breach_detect_refusal(actor)
    if refusal:
        raise ActionForbidden(refusal)
    reason = require_reason(reason)
    policy = breach_policy(on)
    rules = breach_rules(policy)
    by_entitlement: dict[int, list[Run]] = defaultdict(list)
    for run in overuse_runs(
        tolerance=rules.tolerance, consecutive_days=rules.consecutive_days,
        entitlement_ids=entitlement_ids,
    ):  # fmt: skip
        by_entitlement[run.entitlement_id].append(run)
    if not by_entitlement:
        return Detection()
    for runs in by_entitlement.values():
        runs.sort(key=lambda r: (r.first_day, r.metric))

    ids = sorted(by_entitlement)
    # Entitlements locked in primary-key order: two detections take turns, never both open.
    entitlements = {
        e.pk: e
        for e in Entitlement.objects.select_for_update(of=("self",))
        .select_related("contract__customer", "contract__account_manager")
        .filter(pk__in=ids)
        .order_by("pk")
    }
    open_cases, closed_keys = {}, defaultdict(set)
    for case in BreachCase.objects.filter(entitlement_id__in=ids).order_by("pk"):
        if case.is_open:
            open_cases[case.entitlement_id] = case
        else:
            closed_keys[case.entitlement_id] |= set(_known(case))

    to_open, to_update = [], []
    for entitlement_id, runs in by_entitlement.items():
        entitlement = entitlements[entitlement_id]
        runs = [run for run in runs if run.key not in closed_keys[entitlement_id]]
        if not runs:
            continue
        case = open_cases.get(entitlement_id)
        if case is None:
            evidence = _evidence(entitlement, runs, rules=rules, policy=policy, on=on)
            to_open.append(BreachCase(
                entitlement=entitlement, policy=policy, metric=runs[0].metric,
                evidence=evidence, detected_on=on, owner=entitlement.contract.account_manager,
                severity=severity_of(entitlement.quantity, max(r.peak for r in runs)),
            ))  # fmt: skip
            continue
        known = _known(case)
        fresh = [run for run in runs if known.get(run.key, 0) < run.days]
        if not fresh:
            continue
        evidence = dict(case.evidence)
        merged = {(r["metric"], r["first_day_over"]): r for r in evidence.get("runs", [])}
        for run in fresh:
            merged[run.key] = run.as_evidence()
        evidence["runs"] = sorted(merged.values(), key=lambda r: (r["first_day_over"], r["metric"]))
        opening = merged.get((evidence["metric"], evidence["first_day_over"]))
        if opening:  # the run that opened the case grew
            evidence.update(peak=opening["peak"], days_over=opening["days_over"],
                            daily=opening["daily"])  # fmt: skip
        evidence["updated_on"] = on.isoformat()
        case.evidence = evidence
        case.severity = severity_of(evidence["quantity"], max(r["peak"] for r in evidence["runs"]))
        case._fresh = fresh
        to_update.append(case)

    opened = bulk_create_with_history(
        to_open, BreachCase, batch_size=BATCH, default_user=actor, default_change_reason=reason
    )
    if any(case.pk is None for case in opened):  # a database that returns no ids on insert
        opened = list(
            BreachCase.objects.filter(
                entitlement_id__in=[c.entitlement_id for c in to_open],
                state__in=BreachCase.OPEN_STATES,
            )
        )
    bulk_update_with_history(
        to_update, BreachCase, ["evidence", "severity"], batch_size=BATCH,
        default_user=actor, default_change_reason=reason,
    )  # fmt: skip

    events, specs = [], []
    for case in opened:
        ev = case.evidence
        summary = (
            f"Over-use detected: {ev['peak']:,} against {ev['quantity']:,} entitled, "
            f"{ev['days_over']} days from {ev['first_day_over']}"
        )
        events.append(CaseEvent(case=case, kind=CaseEvent.Kind.DETECTED, action="detect",
                                actor=actor, reason=reason, summary=summary,
                                to_state=case.state))  # fmt: skip
        specs.append(EventSpec("breach_case.open", "breaches.breachcase", str(case.pk), reason,
                               policy.label, {"entitlement": case.entitlement_id,
                                              "evidence": _audit_evidence(ev)}))  # fmt: skip
    for case in to_update:
        fresh = case._fresh
        summary = "New evidence: " + "; ".join(
            f"{run.days} days over from {run.first_day:%Y-%m-%d} (peak {run.peak:,})"
            for run in fresh
        )
        events.append(CaseEvent(case=case, kind=CaseEvent.Kind.EVIDENCE, action="evidence",
                                actor=actor, reason=reason, summary=summary[:300],
                                data={"runs": [r.as_evidence() for r in fresh]}))  # fmt: skip
        specs.append(EventSpec("breach_case.evidence", "breaches.breachcase", str(case.pk),
                               reason, policy.label,
                               {"runs": [_audit_run(r) for r in fresh]}))  # fmt: skip
    CaseEvent.objects.bulk_create(events, batch_size=BATCH)
    audit_record_many(actor=actor, specs=specs)
    return Detection(
        opened=sorted(case.pk for case in opened), updated=sorted(case.pk for case in to_update)
    )


def _audit_evidence(evidence: dict) -> dict:
    keys = ("metric", "quantity", "peak", "first_day_over", "days_over", "tolerance")
    return {key: evidence[key] for key in keys}


def _audit_run(run: Run) -> dict:
    return {"metric": run.metric, "first_day_over": run.first_day.isoformat(),
            "days_over": run.days, "peak": run.peak}  # fmt: skip
