"""Reconciliation (does every system agree with us?) and rollback (give back what a run took).

Reconciliation compares each assignment at one system with what the system reports: a SCIM
system is listed (``list_holders``), a webhook receiver is read back one holder at a time. Each
disagreement is classified as identity-governance tools do (situation) and by what is wrong
(kind). A holder still active after its entitlement was revoked is revoked again through the
same delivery machinery, confirmed by read-back, and reported repaired; anything else opens a
finding in the review queue.

Rollback is asked for by one person and approved by another; approval restores the run's
entitlements through the licensing services and sends a ``restore`` delivery to every system.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import suppress
from datetime import date
from itertools import islice

from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from .. import services as licensing
from ..errors import ActionForbidden, TransitionNotAllowed
from ..models import Assignment, ConnectedSystem, Entitlement
from ..services._common import _require_reason, _stamp
from .connectors import ConnectorError
from .models import Delivery, DeprovisioningRun, Reconciliation, ReconciliationFinding
from .selectors import run_taken
from .services import _audit, _connector, _locked, _save_run, revocation_policy

Finding = ReconciliationFinding
Situation, Kind = Finding.Situation, Finding.Kind
GONE = (Entitlement.State.REVOKED, Entitlement.State.EXPIRED)
PERM = "licensing.change_deprovisioningrun"
R = DeprovisioningRun.State
UNDOABLE = (R.EXECUTING, R.VERIFYING, R.COMPLETED, R.FAILED)


# What a system reports, one row per holder: (group_id, external_id, active, error). A holder
# the system does not know is absent. An ``error`` row says the system could not be asked.
ReportRow = tuple[str, str, bool | None, str | None]


def system_report(system: ConnectedSystem) -> Iterator[ReportRow]:
    """Stream what ``system`` says of its holders: a SCIM listing group by group, or (where the
    system lists nothing) each assignment read back in turn. Nothing is held in memory."""
    connector = _connector(system)
    try:
        mine = Assignment.objects.filter(system=system)
        if connector.lists_holders:
            groups = mine.order_by("group_id").values_list("group_id", flat=True).distinct()
            for group in list(groups):
                for holder in connector.list_holders(group_id=group or None):
                    yield group, holder.external_id, holder.active, None
            return
        pairs = mine.order_by("pk").values_list("group_id", "external_id")
        for group, external_id in pairs.iterator(chunk_size=CHUNK):
            try:
                state = connector.read_back(external_id, group_id=group or None)
            except ConnectorError as error:
                yield group, external_id, None, str(error)
                continue
            if state is not None:
                yield group, external_id, state, None
    finally:
        connector.close()


# Our assignments beside the report (a temporary table), only where they disagree. Plain SQL:
# the ORM cannot join a temporary table, and the anti-join is the whole cost at a million rows.
# An assignment is expected inactive once its entitlement is revoked or expired.
_DISAGREEING = """
SELECT a.id, a.external_id, e.state IN ('revoked', 'expired') AS revoked, r.active, r.error,
       r.external_id IS NULL AS missing,
       EXISTS (SELECT 1 FROM licensing_assignment a2
               JOIN licensing_entitlement e2 ON e2.id = a2.entitlement_id
               WHERE a2.system_id = a.system_id AND a2.external_id = a.external_id
                 AND a2.group_id = a.group_id AND a2.id <> a.id
                 AND (e2.state IN ('revoked', 'expired')) <> (e.state IN ('revoked', 'expired'))
       ) AS disputed,
       e.contract_id, a.entitlement_id
FROM licensing_assignment a
JOIN licensing_entitlement e ON e.id = a.entitlement_id
LEFT JOIN recon_report r ON r.group_id = a.group_id AND r.external_id = a.external_id
WHERE a.system_id = %s AND (
    r.error IS NOT NULL
    OR (r.external_id IS NULL AND e.state NOT IN ('revoked', 'expired'))
    OR (r.active AND e.state IN ('revoked', 'expired'))
    OR (r.active IS FALSE AND e.state NOT IN ('revoked', 'expired'))
)
ORDER BY a.id
"""
# Group members we never assigned hold a role we did not grant.
_UNMATCHED = """
SELECT r.group_id, r.external_id FROM recon_report r
WHERE r.group_id <> '' AND r.active AND NOT EXISTS (
    SELECT 1 FROM licensing_assignment a
    WHERE a.system_id = %s AND a.group_id = r.group_id AND a.external_id = r.external_id)
ORDER BY r.group_id, r.external_id
"""
CHUNK = 5000


def _load_report(cursor, report: Iterable[ReportRow]) -> None:
    """The report into a temporary table, a chunk at a time (the report may query as it goes,
    which a connection cannot do in the middle of a COPY)."""
    rows = iter(report)
    postgres = connection.vendor == "postgresql"
    while chunk := list(islice(rows, CHUNK)):
        if postgres:
            with cursor.cursor.copy(
                "COPY recon_report (group_id, external_id, active, error) FROM STDIN"
            ) as copy:
                for row in chunk:
                    copy.write_row(row)
        else:
            cursor.executemany("INSERT INTO recon_report VALUES (%s, %s, %s, %s)", chunk)
    cursor.execute("ANALYZE recon_report")


def _classify(revoked: bool, active, error, missing: bool, disputed: bool) -> tuple[str, str]:
    """(situation, kind) of an assignment the system disagrees about."""
    if error is not None:
        return Situation.UNLINKED, Kind.MISMATCH
    if missing:
        return Situation.DELETED, Kind.MISSING
    if revoked and active:
        if disputed:  # another entitlement still grants the same holder: a person decides
            return Situation.DISPUTED, Kind.MISMATCH
        return Situation.LINKED, Kind.ACTIVE_AFTER_REVOCATION
    return (Situation.DISPUTED if disputed else Situation.LINKED), Kind.MISMATCH


def _latest_runs(contract_ids: set[int]) -> dict[int, int]:
    runs = (
        DeprovisioningRun.objects.filter(contract_id__in=contract_ids)
        .order_by("contract_id", "-created_at", "-pk").values_list("contract_id", "pk")
    )  # fmt: skip
    latest: dict[int, int] = {}
    for contract_id, run_id in runs:
        latest.setdefault(contract_id, run_id)
    return latest


def reconcile_system(
    *, actor, system_id: int, on: date, report: Iterable[ReportRow] | None = None
) -> Reconciliation:
    """Compare every assignment at one system with what it reports; classify what disagrees.

    The report (``system_report`` unless given, e.g. a system's export) is streamed into a
    temporary table and anti-joined there, so memory stays flat however many holders there
    are. A holder active after revocation gets a re-revocation delivery, sent after commit and
    confirmed by read-back like any other (the finding turns repaired then); the rest open
    findings in the review queue. Stored with its counts and one audit event.
    """
    if not actor.has_perm(PERM):
        raise ActionForbidden("Your role may not reconcile connected systems.")
    system = ConnectedSystem.objects.get(pk=system_id)
    policy = revocation_policy(on)
    if report is None:
        report = system_report(system) if system.protocol else iter(())
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS recon_report")
        cursor.execute(
            "CREATE TEMPORARY TABLE recon_report (group_id text NOT NULL,"
            " external_id text NOT NULL, active boolean, error text)"
        )
        try:
            # Outside any transaction of ours: the report may come over HTTP.
            _load_report(cursor, report)
            done = _compare(cursor, actor=actor, system=system, policy=policy, on=on)
        finally:
            with suppress(DatabaseError):
                cursor.execute("DROP TABLE IF EXISTS recon_report")
    done.refresh_from_db()  # repairs confirmed meanwhile (tasks run eagerly) are counted
    return done


@transaction.atomic
def _compare(cursor, *, actor, system: ConnectedSystem, policy, on: date) -> Reconciliation:
    from .tasks import enqueue_deliveries

    reconciliation = Reconciliation.objects.create(
        system=system, started_by=actor, policy=policy,
        checked=Assignment.objects.filter(system=system).count(),
    )  # fmt: skip
    cursor.execute(_DISAGREEING, [system.pk])
    findings, repairs = [], []
    while rows := cursor.fetchmany(CHUNK):
        for pk, external_id, revoked, active, error, missing, disputed, contract, ent in rows:
            situation, kind = _classify(revoked, active, error, missing, disputed)
            findings.append(Finding(
                reconciliation=reconciliation, assignment_id=pk, external_id=external_id,
                situation=situation, kind=kind, detail=error or "",
            ))  # fmt: skip
            if kind == Kind.ACTIVE_AFTER_REVOCATION:
                repairs.append((pk, external_id, contract, ent))
    cursor.execute(_UNMATCHED, [system.pk])
    while rows := cursor.fetchmany(CHUNK):
        findings += [
            Finding(reconciliation=reconciliation, external_id=external_id,
                    situation=Situation.UNMATCHED, kind=Kind.MISMATCH,
                    detail=f"Member of group {group} without an assignment")
            for group, external_id in rows
        ]  # fmt: skip
    Finding.objects.bulk_create(findings, batch_size=CHUNK)
    runs = _latest_runs({contract for _, _, contract, _ in repairs})
    deliveries = Delivery.objects.bulk_create(
        [
            Delivery(
                run_id=runs[contract],
                assignment_id=pk,
                entitlement_id=entitlement,
                system=system,
                external_id=external_id,
                action=Delivery.Action.REVOKE,
                scheduled_for=on,
                idempotency_key=f"msg_{uuid.uuid4().hex}",
                policy=policy,
                reconciliation=reconciliation,
                queued_at=timezone.now(),
            )  # fmt: skip
            for pk, external_id, contract, entitlement in repairs
            if contract in runs
        ],
        batch_size=CHUNK,
    )
    reconciliation.drift = len(findings)
    reconciliation.save(update_fields=["drift"])
    _audit(actor, "reconciliation.run", reconciliation, reason=f"Reconciled {system}",
           policy=policy, data={"system": system.pk, "checked": reconciliation.checked,
                                "drift": reconciliation.drift,
                                "repairs_sent": len(deliveries)})  # fmt: skip
    ids = [d.pk for d in deliveries]
    if ids:
        transaction.on_commit(lambda: enqueue_deliveries(ids), robust=True)
    return reconciliation


def repair_confirmed(delivery: Delivery) -> None:
    """A re-revocation was confirmed: its finding is repaired (called in the delivery's lock)."""
    repaired = Finding.objects.filter(
        reconciliation_id=delivery.reconciliation_id, assignment_id=delivery.assignment_id,
        kind=Kind.ACTIVE_AFTER_REVOCATION, repaired=False,
    ).update(repaired=True, state=Finding.State.RESOLVED, resolved_at=timezone.now())  # fmt: skip
    if repaired:
        Reconciliation.objects.filter(pk=delivery.reconciliation_id).update(
            repaired=F("repaired") + repaired
        )


def reconcile_all(*, on: date) -> dict[str, int]:
    """Nightly: every system that is sent changes."""
    actor = licensing.system_actor()
    counts = {"systems": 0, "drift": 0, "repaired": 0}
    for pk in ConnectedSystem.objects.exclude(protocol="").values_list("pk", flat=True):
        try:
            done = reconcile_system(actor=actor, system_id=pk, on=on)
        except ConnectorError:
            continue
        counts["systems"] += 1
        counts["drift"] += done.drift
        counts["repaired"] += done.repaired
    return counts


# Rollback -------------------------------------------------------------------------------------


def rollback_request_refusal(actor, run: DeprovisioningRun) -> str | None:
    """Why ``actor`` may not ask for ``run`` to be rolled back now, or ``None``."""
    if not actor.has_perm(PERM):
        return "Your role may not ask for rollbacks."
    if run.state == DeprovisioningRun.State.ROLLED_BACK:
        return f"Run {run.pk} is already rolled back."
    if run.state not in UNDOABLE:
        return f"Run {run.pk} took nothing yet; there is nothing to roll back."
    if run.rollback_requested_at and not run.rollback_approved_at:
        return f"A rollback of run {run.pk} already waits for approval."
    return None


@transaction.atomic
def rollback_request(*, actor, run_id: int, reason: str) -> DeprovisioningRun:
    if not actor.has_perm(PERM):
        raise ActionForbidden("Your role may not ask for rollbacks.")
    reason = _require_reason(reason)
    run = _locked(run_id)
    refusal = rollback_request_refusal(actor, run)
    if refusal:
        raise TransitionNotAllowed(refusal)
    run.rollback_reason, run.rollback_requested_by = reason, actor
    run.rollback_requested_at = timezone.now()
    _save_run(run, actor=actor, reason=reason, action="rollback_request")
    return run


def rollback_approve_refusal(actor, run: DeprovisioningRun) -> str | None:
    if not actor.has_perm(PERM):
        return "Your role may not approve rollbacks."
    if run.rollback_requested_by_id == actor.pk:
        return "Somebody other than the person who asked for a rollback must approve it."
    return None


def rollback_pending(run: DeprovisioningRun) -> bool:
    """A rollback was asked for and waits for a second person."""
    return bool(run.rollback_requested_at and not run.rollback_approved_at)


def _renewal_before(entitlement: Entitlement, run: DeprovisioningRun) -> str | None:
    """The renewal the entitlement had before the run suppressed it, if history recorded it."""
    before = (
        entitlement.history.filter(history_date__lt=run.created_at)
        .order_by("-history_date").values_list("renewal", flat=True).first()
    )  # fmt: skip
    return before if before and before != Entitlement.Renewal.NONE else None


def rollback_approve(*, actor, run_id: int, reason: str, on: date) -> DeprovisioningRun:
    from .tasks import send_delivery

    reason = _require_reason(reason)
    with transaction.atomic():
        run = _locked(run_id)
        refusal = rollback_approve_refusal(actor, run)
        if refusal:
            raise ActionForbidden(refusal)
        if not run.rollback_requested_at or run.rollback_approved_at:
            raise TransitionNotAllowed(f"No rollback of run {run.pk} waits for approval.")
        run.roll_back()
        run.rollback_approved_by, run.rollback_approved_at = actor, timezone.now()
        _save_run(run, actor=actor, reason=reason, action="rollback_approve",
                  data={"requested_by": run.rollback_requested_by_id})  # fmt: skip
        why = f"Rollback of deprovisioning run {run.pk}: {reason}"
        restored = []
        # Only what this run took: an entitlement another run or a person revoked stays so.
        taken = list(run_taken(run).order_by("pk"))
        for entitlement in taken:
            renewal = _renewal_before(entitlement, run)
            if entitlement.state == Entitlement.State.GRACE:
                licensing.entitlement_transition(
                    actor=actor, entitlement_id=entitlement.pk, transition="revoke",
                    reason=why, effective_date=on,
                )  # fmt: skip
            if Entitlement.objects.get(pk=entitlement.pk).state == Entitlement.State.REVOKED:
                licensing.entitlement_transition(
                    actor=actor, entitlement_id=entitlement.pk, transition="restore",
                    reason=why, effective_date=on,
                )  # fmt: skip
                restored.append(entitlement.pk)
            if renewal:
                entitlement = Entitlement.objects.get(pk=entitlement.pk)
                entitlement.renewal = renewal
                _stamp(entitlement, actor=actor, reason=why)
                entitlement.save()
        revoked = run.deliveries.filter(
            action=Delivery.Action.REVOKE, reconciliation=None, entitlement__in=taken
        )
        restores = Delivery.objects.bulk_create(
            Delivery(
                run=run,
                assignment=d.assignment,
                entitlement=d.entitlement,
                system=d.system,
                external_id=d.external_id,
                action=Delivery.Action.RESTORE,
                scheduled_for=on,
                idempotency_key=f"msg_{uuid.uuid4().hex}",
                policy=run.policy,
            )  # fmt: skip
            for d in revoked.select_related("assignment")
        )
        _audit(actor, "deprovisioning.rollback", run, reason=reason, policy=run.policy,
               data={"entitlements": restored, "deliveries": [d.pk for d in restores]})  # fmt: skip
        for d in restores:
            transaction.on_commit(lambda pk=d.pk: send_delivery.delay(pk), robust=True)
    return DeprovisioningRun.objects.get(pk=run_id)
