"""The rows of the table, in order. Each sets up its own state untimed and times both sides.

To add a row, add one function here decorated with `@benchmark(...)` that returns `Samples`.
Every row starts on a fresh copy of the migrated database, with the superuser `ctx.actor()`.
"""

import hashlib
import hmac
import json

from django.conf import settings
from django.utils import timezone
from psycopg.types.json import Jsonb

from audit.chain import GENESIS_HASH, event_content, link_hash
from audit.models import AuditEvent
from audit.selectors import audit_verify_chain
from licensing.models import Entitlement, LedgerEntry
from licensing.services import entitlements_bulk_transition

from .fixtures import active_contract, audit_events, plan_for_bench
from .raw_audit import raw_tree_append
from .registry import Context, Samples, alternate, benchmark

ENTITLEMENTS = 10_000
SUSPEND_REASON = "Customer payment overdue"


@benchmark(
    "bulk_suspend",
    title=f"suspend {ENTITLEMENTS:,} entitlements of a contract",
    measured="licensing.services.entitlements_bulk_transition(transition='suspend'), which "
    "locks, updates and writes history, ledger and audit rows in one transaction",
    baseline="raw SQL on a psycopg connection in one transaction: policy lookup, SELECT ... FOR "
    "UPDATE in id order, one UPDATE, INSERT ... SELECT of the history and ledger rows, chain head "
    "locked, HMAC chain computed in Python with audit.chain, audit rows by executemany INSERT, "
    "chain head UPDATE",
    target=10,
)
def bulk_suspend(ctx: Context) -> Samples:
    actor = ctx.actor()
    plan = plan_for_bench(actor=actor)
    size = ctx.size(ENTITLEMENTS, smoke=20)
    # Each run suspends contracts of its own, so every run starts from the same state.
    runs = [
        {
            side: active_contract(
                actor=actor, plan=plan, number=f"BENCH-{side}-{n}", entitlements=size
            )
            for side in ("measured", "baseline")
        }
        for n in range(ctx.repeats)
    ]
    ctx.settle()
    sources = sorted(Entitlement.suspend._django_fsm.transitions)
    key = settings.AUDIT_HMAC_KEY.encode()
    with ctx.raw() as conn:

        def measured(run):
            return entitlements_bulk_transition(
                actor=actor,
                contract_id=run["measured"].pk,
                transition="suspend",
                reason=SUSPEND_REASON,
            )

        def baseline(run):
            return _raw_bulk_suspend(
                conn,
                actor=actor,
                key=key,
                contract_id=run["baseline"].pk,
                sources=sources,
                reason=SUSPEND_REASON,
            )

        times, counts = alternate({"measured": measured, "baseline": baseline}, runs)
    return Samples(
        times["measured"],
        times["baseline"],
        work=size,
        checks={
            "every run changed all entitlements": all(
                count == size for side in counts.values() for count in side
            ),
            "service wrote every row": all(
                _suspended_with_trail(r["measured"].pk, size) for r in runs
            ),
            "baseline wrote every row": all(
                _suspended_with_trail(r["baseline"].pk, size) for r in runs
            ),
            "audit chain verifies": audit_verify_chain().ok,
        },
    )


def _raw_bulk_suspend(
    conn, *, actor, key: bytes, contract_id: int, sources: list[str], reason: str
) -> int:
    """What the service writes, by hand: the same rows, locks and chain, none of the ORM."""
    today, now = timezone.localdate(), timezone.now()
    with conn.transaction(), conn.cursor() as cur:
        kind, number = cur.execute(
            "SELECT kind, number FROM licensing_policyversion"
            " WHERE kind = 'lifecycle' AND status = 'published' AND effective_from <= %s"
            " ORDER BY effective_from DESC, number DESC LIMIT 1",
            [today],
        ).fetchone()
        policy = f"{kind}/v{number}"
        locked = cur.execute(
            "SELECT id, state FROM licensing_entitlement"
            " WHERE contract_id = %s AND state = ANY(%s) ORDER BY id FOR UPDATE",
            [contract_id, sources],
        ).fetchall()
        ids = [pk for pk, _ in locked]
        cur.execute(
            "UPDATE licensing_entitlement"
            " SET state = 'suspended', grace_ends_on = NULL, version = version + 1"
            " WHERE id = ANY(%s::bigint[])",
            [ids],
        )
        cur.execute(
            "INSERT INTO licensing_historicalentitlement (id, kind, name, scope, key, quantity,"
            " unit, starts_on, ends_on, renewal, state, held_from, grace_ends_on, contract_id,"
            " contract_line_id, history_date, history_change_reason, history_type,"
            " history_user_id)"
            " SELECT id, kind, name, scope, key, quantity, unit, starts_on, ends_on, renewal,"
            " state, held_from, grace_ends_on, contract_id, contract_line_id, %s, %s, '~', %s"
            " FROM licensing_entitlement WHERE id = ANY(%s::bigint[]) ORDER BY id",
            [now, reason, actor.pk, ids],
        )
        # Every source state of 'suspend' holds the quantity, as 'suspended' does: delta 0.
        cur.execute(
            "INSERT INTO licensing_ledgerentry (entitlement_id, contract_id, effective_date,"
            " quantity_delta, state_after, action, actor_id, reason, policy_version, recorded_at)"
            " SELECT id, contract_id, %s, 0, 'suspended', 'suspend', %s, %s, %s, %s"
            " FROM licensing_entitlement WHERE id = ANY(%s::bigint[]) ORDER BY id",
            [today, actor.pk, reason, policy, now, ids],
        )
        seq, prev = cur.execute(
            "SELECT seq, hash FROM audit_chainhead WHERE id = 1 FOR UPDATE"
        ).fetchone()
        fixed = (now, actor.pk, actor.username, "entitlement.suspend", "licensing.entitlement")
        events, contents, size = [], [], seq
        for pk, before in locked:
            seq += 1
            data = {
                "from": before,
                "to": "suspended",
                "quantity_delta": 0,
                "effective_date": today.isoformat(),
                "contract": contract_id,
                "bulk": True,
            }
            content = event_content(
                seq=seq,
                occurred_at=now,
                actor_id=actor.pk,
                actor_username=actor.username,
                action="entitlement.suspend",
                object_type="licensing.entitlement",
                object_id=str(pk),
                reason=reason,
                policy_version=policy,
                data=data,
            )
            digest = link_hash(key, prev, content)
            contents.append(content)
            events.append((seq, *fixed, str(pk), reason, policy, Jsonb(data), prev, digest))
            prev = digest
        cur.executemany(
            "INSERT INTO audit_auditevent (seq, occurred_at, actor_id, actor_username, action,"
            " object_type, object_id, reason, policy_version, data, prev_hash, hash)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            events,
        )
        raw_tree_append(cur, size=size, contents=contents)
        cur.execute("UPDATE audit_chainhead SET seq = %s, hash = %s WHERE id = 1", [seq, prev])
    return len(ids)


def _suspended_with_trail(contract_id: int, n: int) -> bool:
    return (
        Entitlement.objects.filter(contract_id=contract_id, state="suspended", version=3).count()
        == n
        and Entitlement.history.filter(
            contract_id=contract_id, history_type="~", state="suspended"
        ).count()
        == n
        and LedgerEntry.objects.filter(contract_id=contract_id, action="suspend").count() == n
        and AuditEvent.objects.filter(
            action="entitlement.suspend", data__contract=contract_id
        ).count()
        == n
    )


EVENTS = 100_000


@benchmark(
    "verify_audit",
    title=f"verify the audit chain of {EVENTS:,} events",
    measured="audit.selectors.audit_verify_chain(): the events streamed in chunks of 2,000, "
    "the HMAC chain and the JSON column checked per event, chain head check",
    baseline="raw psycopg cursor streaming the same columns in the same order, the HMAC chain "
    "recomputed in a plain loop with json/hmac, chain head check",
    unit="rate",
    item="events",
)
def verify_audit(ctx: Context) -> Samples:
    size = ctx.size(EVENTS, smoke=200)
    audit_events(actor=ctx.actor(), count=size)
    ctx.settle()
    key = settings.AUDIT_HMAC_KEY.encode()
    with ctx.raw() as conn:
        times, reports = alternate(
            {
                "measured": lambda _: audit_verify_chain(),
                "baseline": lambda _: _raw_verify(conn, key),
            },
            # Reading changes nothing, so every run sees the same chain, and a run costs seconds:
            # take twice the runs, as a busy machine scatters single runs widely.
            [None] * (2 * ctx.repeats),
        )
    return Samples(
        times["measured"],
        times["baseline"],
        work=size,
        checks={
            "service verified every event": all(
                r.ok and r.checked == size for r in reports["measured"]
            ),
            "baseline verified every event": all(r == (True, size) for r in reports["baseline"]),
        },
    )


def _raw_verify(conn, key: bytes) -> tuple[bool, int]:
    expected, prev, checked, broken = 1, GENESIS_HASH, 0, False
    with conn.transaction(), conn.cursor() as cur:
        # stream() reads row by row in one pass: the quickest plain way, in bounded memory. A
        # stream left half-read blocks the connection, so a broken chain drains it, unchecked.
        rows = cur.stream(
            "SELECT id, seq, occurred_at, actor_id, actor_username, action, object_type,"
            " object_id, reason, policy_version, data, prev_hash, hash"
            " FROM audit_auditevent ORDER BY seq"
        )
        for row in rows:
            if broken:
                continue
            (_, seq, occurred_at, actor_id, username, action, otype, oid, reason, policy, data,
             prev_hash, digest) = row  # fmt: skip
            content = {
                "seq": seq,
                "occurred_at": occurred_at.isoformat(timespec="microseconds"),
                "actor_id": actor_id,
                "actor": username,
                "action": action,
                "object_type": otype,
                "object_id": oid,
                "reason": reason,
                "policy_version": policy,
                "data": data,
            }
            canonical = json.dumps(
                content, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            )
            message = prev.encode() + b"\n" + canonical.encode()
            if (
                seq != expected
                or prev_hash != prev
                or hmac.new(key, message, hashlib.sha256).hexdigest() != digest
            ):
                broken = True
                continue
            prev = digest
            expected += 1
            checked += 1
        head = cur.execute("SELECT seq, hash FROM audit_chainhead WHERE id = 1").fetchone()
    ok = not broken and (head is None or tuple(head) == (checked, prev))
    return ok, checked


# Later issues add their rows after these, in their own modules.
from . import audit_rows, breach_rows, credit_rows, deprovisioning_rows  # noqa: E402, F401
