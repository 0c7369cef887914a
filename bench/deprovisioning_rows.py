"""Benchmark rows for deprovisioning: terminating a large contract, reconciling a large system.

Both rows queue Celery tasks into an in-memory broker (kombu's ``memory://``) rather than
running them: what is measured is the termination or reconciliation up to "deliveries queued",
not HTTP to systems that do not exist here. The queue is read afterwards to check that every
delivery was queued, then emptied.
"""

import tracemalloc
from contextlib import contextmanager
from datetime import date

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEvent
from audit.selectors import audit_verify_chain
from licensing import services as licensing
from licensing.deprovisioning import services
from licensing.deprovisioning.connectors.webhook import new_webhook_secret
from licensing.deprovisioning.models import Delivery, DeprovisioningRun, ReconciliationFinding
from licensing.deprovisioning.reconciliation import reconcile_system
from licensing.models import Contract, Entitlement, LedgerEntry

from .fixtures import active_contract, plan_for_bench
from .raw_audit import raw_audit
from .registry import Context, Samples, alternate, benchmark

ENTITLEMENTS = 10_000
ASSIGNMENTS = 1_000_000
HOLDERS_PER_ENTITLEMENT = 100
REASON = "Contract terminated for breach"


@contextmanager
def queued_tasks():
    """Celery sends to an in-memory broker for the block; yields a reader of what was sent."""
    from config.celery import app

    eager, broker = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager, app.conf.broker_url = False, "memory://"
    try:
        yield lambda: _drain(app)
    finally:
        _drain(app)
        app.conf.task_always_eager, app.conf.broker_url = eager, broker


def _drain(app) -> list[tuple[str, list]]:
    """Every message waiting in the default queue as (task name, args); the queue is emptied."""
    sent = []
    with app.connection_for_read() as conn:
        queue = conn.SimpleQueue(app.conf.task_default_queue)
        while queue.qsize():
            message = queue.get_nowait()
            args = message.decode()[0]  # Celery's message body: [args, kwargs, embed]
            sent.append((message.headers.get("task", ""), list(args)))
            message.ack()
        queue.close()
    return sent


def _system(actor, name: str):
    return services.connected_system_create(
        actor=actor, name=name, kind="license_server", protocol="webhook",
        base_url=f"https://{name.lower()}.bench.invalid/", secret=new_webhook_secret(),
    )  # fmt: skip


def _assign_all(system_id: int, contract_id: int, holders: int) -> int:
    """`holders` assignments per entitlement of the contract, inserted in one statement
    (untimed setup; the assignment service writes one row at a time)."""
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO licensing_assignment (entitlement_id, system_id, external_id, group_id,"
            " holder_name, group_name, created_at)"
            " SELECT e.id, %s, 'u' || e.id || '-' || g, '', '', '', now()"
            " FROM licensing_entitlement e CROSS JOIN generate_series(1, %s) g"
            " WHERE e.contract_id = %s ORDER BY e.id, g",
            [system_id, holders, contract_id],
        )
        return cur.rowcount


# Terminating a contract -----------------------------------------------------------------------


@benchmark(
    "terminate_contract",
    title=f"terminate a contract of {ENTITLEMENTS:,} entitlements, one holder each",
    measured="licensing.deprovisioning.services.contract_terminate() then run_advance(), as the "
    "task does: contract transition, renewal suppressed (history, audit), run and "
    f"{ENTITLEMENTS:,} deliveries planned, notice PDF and mail, revocation kind by kind through "
    "entitlements_bulk_transition (history, ledger, audit chain), deliveries queued to Celery "
    "(memory broker)",
    baseline="raw SQL on a psycopg connection: the same state updates in one transaction "
    "(contract status and history, run row, renewal and state UPDATEs with INSERT ... SELECT "
    "history, ledger rows, deliveries by INSERT ... SELECT from assignments, the audit chain "
    "computed with audit.chain and inserted by executemany); no notice, nothing queued",
    target=10,
)
def terminate_contract(ctx: Context) -> Samples:
    actor = ctx.actor()
    plan = plan_for_bench(actor=actor)
    size = ctx.size(ENTITLEMENTS, smoke=20)
    system = _system(actor, "Keys")
    runs = []
    for n in range(ctx.repeats):
        pair = {}
        for side in ("measured", "baseline"):
            contract = active_contract(
                actor=actor, plan=plan, number=f"BENCH-T-{side}-{n}", entitlements=size
            )
            _assign_all(system.pk, contract.pk, 1)
            pair[side] = contract
        runs.append(pair)
    ctx.settle()
    today = timezone.localdate()
    key = settings.AUDIT_HMAC_KEY.encode()
    queued: list[tuple[str, list]] = []
    with queued_tasks() as drain, ctx.raw() as conn:

        def measured(run):
            _, started = services.contract_terminate(
                actor=actor, contract_id=run["measured"].pk, reason=REASON, on=today
            )
            done = services.run_advance(run_id=started.pk, on=today)
            queued.extend(drain())
            return done.state

        def baseline(run):
            return _raw_terminate(conn, actor=actor, key=key, contract=run["baseline"],
                                  system_id=system.pk, on=today)  # fmt: skip

        times, values = alternate({"measured": measured, "baseline": baseline}, runs)
    sent = {pk for task, args in queued if task.endswith("send_deliveries") for pk in args[0]}
    return Samples(
        times["measured"],
        times["baseline"],
        work=size,
        checks={
            "the run executes, waiting on its deliveries": set(values["measured"]) == {"executing"},
            "service revoked every entitlement with its trail": all(
                _revoked_with_trail(r["measured"].pk, size, audited=True) for r in runs
            ),
            "baseline revoked every entitlement with its trail": all(
                _revoked_with_trail(r["baseline"].pk, size, audited=True) for r in runs
            ),
            "every delivery of the service was queued": sent
            == set(
                Delivery.objects.filter(
                    run__contract__in=[r["measured"] for r in runs]
                ).values_list("pk", flat=True)
            ),  # fmt: skip
            "audit chain verifies": audit_verify_chain().ok,
            "audit log's Merkle tree is whole": _tree_whole(),
        },
    )


def _tree_whole() -> bool:
    from audit.tree import TreeError, tree_root, tree_size

    try:
        return len(tree_root(tree_size())) == 32
    except TreeError:
        return False


def _revoked_with_trail(contract_id: int, n: int, *, audited: bool) -> bool:
    contract = Contract.objects.get(pk=contract_id)
    return (
        contract.status == "terminated"
        and Entitlement.objects.filter(contract_id=contract_id, state="revoked", renewal="none")
        .count() == n
        and Entitlement.history.filter(contract_id=contract_id, state="revoked").count() == n
        and LedgerEntry.objects.filter(contract_id=contract_id, action="revoke",
                                       policy_version="revocation/v1").count() == n
        and (not audited or AuditEvent.objects.filter(
            action="entitlement.revoke", data__contract=contract_id).count() == n)
        and Delivery.objects.filter(run__contract_id=contract_id, state="pending").count() == n
    )  # fmt: skip


def _history_sql(model, source: str) -> str:
    """INSERT ... SELECT of a model's history rows from its own table (``source`` filters)."""
    history = model.history.model
    columns, values = [], []
    for field in history._meta.concrete_fields:
        # The id and the writing transaction's id are the database's defaults, as for the ORM.
        if field.name in ("history_id", "history_transaction_id"):
            continue
        columns.append(field.column)
        values.append({
            "history_date": "%(now)s", "history_change_reason": "%(reason)s",
            "history_type": "'~'", "history_user": "%(actor)s",
        }.get(field.name, field.column))  # fmt: skip
    return (
        f"INSERT INTO {history._meta.db_table} ({', '.join(columns)})"
        f" SELECT {', '.join(values)} FROM {model._meta.db_table} WHERE {source}"
    )


def _raw_terminate(conn, *, actor, key: bytes, contract, system_id: int, on: date) -> int:
    now = timezone.now()
    args = {"now": now, "reason": REASON, "actor": actor.pk, "contract": contract.pk}
    events = []
    with conn.transaction(), conn.cursor() as cur:
        policy_id, number = cur.execute(
            "SELECT id, number FROM licensing_policyversion WHERE kind = 'revocation'"
            " AND status = 'published' AND effective_from <= %s"
            " ORDER BY effective_from DESC, number DESC LIMIT 1",
            [on],
        ).fetchone()
        policy = f"revocation/v{number}"
        cur.execute("SELECT id FROM licensing_contract WHERE id = %s FOR UPDATE", [contract.pk])
        cur.execute(
            "UPDATE licensing_contract SET status = 'terminated', version = version + 1"
            " WHERE id = %(contract)s", args,
        )  # fmt: skip
        cur.execute(_history_sql(Contract, "id = %(contract)s"), args)
        events.append(("contract.terminate", "licensing.contract", contract.pk,
                       {"from": "active", "to": "terminated"}))  # fmt: skip
        run_id = cur.execute(
            "INSERT INTO licensing_deprovisioningrun (contract_id, state, trigger, policy_id,"
            " reason, effective_date, execute_on, grace_days, created_by_id, created_at,"
            " notice_sha256, rollback_reason) VALUES (%s, 'executing', 'termination', %s, %s,"
            " %s, %s, 0, %s, %s, '', '') RETURNING id",
            [contract.pk, policy_id, REASON, on, on, actor.pk, now],
        ).fetchone()[0]
        cur.execute(_history_sql(DeprovisioningRun, "id = %(run)s"), {**args, "run": run_id})
        events.append(("deprovisioning.plan", "licensing.deprovisioningrun", run_id, {}))
        ids = [
            pk for (pk,) in cur.execute(
                "SELECT id FROM licensing_entitlement WHERE contract_id = %s"
                " AND state = ANY(%s) ORDER BY id FOR UPDATE",
                [contract.pk, ["active", "suspended", "grace"]],
            )
        ]  # fmt: skip
        args["ids"] = ids
        cur.execute(
            "UPDATE licensing_entitlement SET renewal = 'none' WHERE id = ANY(%(ids)s)", args
        )
        cur.execute(_history_sql(Entitlement, "id = ANY(%(ids)s)"), args)
        events.append(("contract.suppress_renewal", "licensing.contract", contract.pk, {}))
        cur.execute(
            "INSERT INTO licensing_delivery (run_id, assignment_id, entitlement_id, system_id,"
            " external_id, action, delete, state, scheduled_for, attempts, idempotency_key,"
            " policy_id, last_error, close_reason) SELECT %s, a.id, a.entitlement_id, a.system_id,"
            " a.external_id, 'revoke', false, 'pending', %s, 0,"
            " 'msg_' || replace(gen_random_uuid()::text, '-', ''), %s, '', ''"
            " FROM licensing_assignment a WHERE a.entitlement_id = ANY(%s) AND a.system_id = %s"
            " ORDER BY a.id",
            [run_id, on, policy_id, ids, system_id],
        )
        cur.execute(
            "UPDATE licensing_entitlement SET state = 'revoked', grace_ends_on = NULL,"
            " version = version + 1 WHERE id = ANY(%(ids)s)", args,
        )  # fmt: skip
        cur.execute(_history_sql(Entitlement, "id = ANY(%(ids)s)"), args)
        cur.execute(
            "INSERT INTO licensing_ledgerentry (entitlement_id, contract_id, effective_date,"
            " quantity_delta, state_after, action, actor_id, reason, policy_version, recorded_at)"
            " SELECT id, contract_id, %s, -quantity, 'revoked', 'revoke', %s, %s, %s, %s"
            " FROM licensing_entitlement WHERE id = ANY(%s) ORDER BY id",
            [on, actor.pk, REASON, policy, now, ids],
        )
        for pk in ids:
            events.append(("entitlement.revoke", "licensing.entitlement", pk, {
                "from": "active", "to": "revoked", "quantity_delta": -1,
                "effective_date": on.isoformat(), "contract": contract.pk, "bulk": True,
            }))  # fmt: skip
        raw_audit(cur, key=key, actor=actor, reason=REASON, policy=policy, events=events, now=now)
    return len(ids)


# Reconciling a system -------------------------------------------------------------------------

# One holder in this many disagrees with us, a third each way (active after revocation, missing,
# inactive while entitled): 1,000 findings in a million.
DRIFT_EVERY = 1000


def _estate(actor, plan, *, name: str, assignments: int):
    """A system holding ``assignments`` holders of one contract, half of it revoked."""
    entitlements = max(assignments // HOLDERS_PER_ENTITLEMENT, 2)
    contract = active_contract(actor=actor, plan=plan, number=f"BENCH-R-{name}",
                               entitlements=entitlements)  # fmt: skip
    system = _system(actor, name)
    ids = list(contract.entitlements.order_by("pk").values_list("pk", flat=True))
    revoked = ids[: len(ids) // 2]
    licensing.entitlements_bulk_transition(
        actor=actor, contract_id=contract.pk, transition="revoke", reason="Bench setup",
        entitlement_ids=revoked,
    )  # fmt: skip
    with transaction.atomic():
        # The run re-revocations are filed under (untimed setup, written directly).
        run = DeprovisioningRun(
            contract=contract, trigger="termination", reason="Bench setup",
            policy=services.revocation_policy(timezone.localdate()), created_by=actor,
            effective_date=timezone.localdate(), execute_on=timezone.localdate(),
        )  # fmt: skip
        run.save()
    count = _assign_all(system.pk, contract.pk, HOLDERS_PER_ENTITLEMENT)
    return system, count, set(revoked), ids


def _report(ids: list[int], revoked: set[int], every: int):
    """What the system says: every holder as we expect, except one in ``every``."""
    n = 0
    for entitlement in ids:
        gone = entitlement in revoked
        for holder in range(1, HOLDERS_PER_ENTITLEMENT + 1):
            n += 1
            external_id = f"u{entitlement}-{holder}"
            if n % every == 0:
                drift = (n // every) % 3
                if drift == 1 and not gone:
                    continue  # missing at the system
                yield "", external_id, (drift == 0) if gone else (drift != 2), None
                continue
            yield "", external_id, not gone, None


def _expected_drift(ids: list[int], revoked: set[int], every: int) -> int:
    n = drift = 0
    for entitlement in ids:
        gone = entitlement in revoked
        for _holder in range(HOLDERS_PER_ENTITLEMENT):
            n += 1
            if n % every == 0:
                kind = (n // every) % 3
                drift += (kind == 0) if gone else (kind in (1, 2))
    return drift


_ANTI_JOIN = """
SELECT a.id, a.external_id FROM licensing_assignment a
JOIN licensing_entitlement e ON e.id = a.entitlement_id
LEFT JOIN bench_report r ON r.group_id = a.group_id AND r.external_id = a.external_id
WHERE a.system_id = %s AND (
    (r.external_id IS NULL AND e.state NOT IN ('revoked', 'expired'))
    OR (r.active AND e.state IN ('revoked', 'expired'))
    OR (r.active IS FALSE AND e.state NOT IN ('revoked', 'expired')))
"""


def _raw_reconcile(conn, system_id: int, report) -> int:
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(
            "CREATE TEMPORARY TABLE bench_report (group_id text NOT NULL, external_id text"
            " NOT NULL, active boolean, error text) ON COMMIT DROP"
        )
        copying = "COPY bench_report (group_id, external_id, active, error) FROM STDIN"
        with cur.copy(copying) as copy:
            for row in report:
                copy.write_row(row)
        cur.execute("ANALYZE bench_report")
        return len(cur.execute(_ANTI_JOIN, [system_id]).fetchall())


def _peak_mib(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


@benchmark(
    "reconcile_system",
    title=f"reconcile {ASSIGNMENTS:,} assignments against a system report",
    measured="licensing.deprovisioning.reconciliation.reconcile_system(report=...): the report "
    "streamed by COPY into a temporary table in chunks, anti-joined with assignments and "
    "entitlement states, drift classified, findings and re-revocation deliveries written in "
    "bulk, deliveries queued (memory broker), one audit event",
    baseline="raw psycopg: the same report COPYed into a temporary table, the plain anti-join "
    "of assignments and entitlement states fetched; nothing written",
    target=3,
)
def reconcile(ctx: Context) -> Samples:
    actor = ctx.actor()
    plan = plan_for_bench(actor=actor)
    large = ctx.size(ASSIGNMENTS, smoke=2_000)
    small = large // 10
    every = min(DRIFT_EVERY, large // 60)  # a smoke run plants some of each kind too
    big_system, big_count, big_revoked, big_ids = _estate(actor, plan, name="Big",
                                                          assignments=large)  # fmt: skip
    small_system, _, small_revoked, small_ids = _estate(actor, plan, name="Small",
                                                        assignments=small)  # fmt: skip
    ctx.settle()
    today = timezone.localdate()
    with queued_tasks() as drain, ctx.raw() as conn:
        times, values = alternate(
            {
                "measured": lambda _: reconcile_system(
                    actor=actor,
                    system_id=big_system.pk,
                    on=today,
                    report=_report(big_ids, big_revoked, every),
                ),  # fmt: skip
                "baseline": lambda _: _raw_reconcile(
                    conn, big_system.pk, _report(big_ids, big_revoked, every)
                ),
            },
            [None] * ctx.repeats,
        )
        queued = drain()
        peak_small = _peak_mib(lambda: reconcile_system(
            actor=actor, system_id=small_system.pk, on=today,
            report=_report(small_ids, small_revoked, every)))  # fmt: skip
        peak_large = _peak_mib(lambda: reconcile_system(
            actor=actor, system_id=big_system.pk, on=today,
            report=_report(big_ids, big_revoked, every)))  # fmt: skip
        drain()
    drift = _expected_drift(big_ids, big_revoked, every)
    sent = {pk for task, args in queued if task.endswith("send_deliveries") for pk in args[0]}
    done = values["measured"]
    return Samples(
        times["measured"],
        times["baseline"],
        work=big_count,
        checks={
            "every assignment was checked": all(r.checked == large for r in done),
            "service found the planted drift": all(r.drift == drift for r in done),
            "baseline found the planted drift": set(values["baseline"]) == {drift},
            "findings stored": ReconciliationFinding.objects.filter(reconciliation__in=done).count()
            == drift * len(done),  # fmt: skip
            "every re-revocation was queued": sent
            == set(Delivery.objects.filter(reconciliation__in=done).values_list("pk", flat=True))
            and bool(sent),  # fmt: skip
            "peak memory flat as rows grow (10x rows, under 2x memory)": peak_large
            < 2 * max(peak_small, 1.0),
        },
        extra={
            "peak Python memory (tracemalloc)": f"{peak_small:.1f} MiB at {small:,} "
            f"assignments, {peak_large:.1f} MiB at {large:,}",
        },
    )
