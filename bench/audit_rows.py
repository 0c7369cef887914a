"""Benchmark rows for the audit log at a million events: CSV export, chain verification and an
inclusion proof.

The million events are built untimed in seconds, not through the service one by one: the chain
(audit.chain's content and HMAC) and the Merkle subtrees (audit.merkle) are computed in Python
exactly as the service computes them, and the rows go in by COPY. Each row's checks prove the
built log is the real thing: the service's own verifier accepts it.
"""

import hashlib
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from time import process_time

from django.conf import settings

from audit import merkle, tree
from audit.chain import GENESIS_HASH, canonical, event_content, link_hash
from audit.exports import content_columns, csv_lines, export_events
from audit.merkle import leaf_hash
from audit.selectors import audit_verify_chain

from .registry import Context, Samples, alternate, benchmark

MILLION = 1_000_000
SMOKE = 300
EVENT_COLUMNS = ("seq", "occurred_at", "actor_id", "actor_username", "action", "object_type",
                 "object_id", "reason", "policy_version", "data", "canonical_data", "prev_hash",
                 "hash", "redaction_mac")  # fmt: skip


def copy_sql() -> str:
    """COPY of what the CSV export writes: the content's columns in its order."""
    select = ", ".join(
        "actor_username AS actor" if column == "actor" else column for column in content_columns()
    )
    return (
        f"COPY (SELECT {select} FROM audit_auditevent ORDER BY seq)"
        " TO STDOUT WITH (FORMAT csv, HEADER)"
    )


def build_log(ctx: Context, count: int, *, chunk: int = 50_000) -> None:
    """`count` chained events with their Merkle subtrees and the chain head, by COPY."""
    actor = ctx.actor()
    key = settings.AUDIT_HMAC_KEY.encode()
    start = datetime(2025, 1, 1, tzinfo=UTC)
    prev, frontier, size = GENESIS_HASH, {}, 0
    with ctx.raw() as conn, conn.cursor() as cur:
        for first in range(1, count + 1, chunk):
            events, leaves = [], []
            for seq in range(first, min(first + chunk, count + 1)):
                n = seq - 1
                data = {"from": n % 50, "to": n % 50 + 1, "quantity_delta": 1,
                        "contract": n // 100, "effective_date": "2025-06-01"}  # fmt: skip
                fields = {
                    "seq": seq, "occurred_at": start + timedelta(seconds=n),
                    "actor_id": actor.pk, "actor_username": actor.username,
                    "action": "entitlement.adjust", "object_type": "licensing.entitlement",
                    "object_id": str(n), "reason": "Seat count reviewed with the customer",
                    "policy_version": "lifecycle/v1", "data": data,
                }  # fmt: skip
                content = event_content(**fields)
                digest = link_hash(key, prev, content)
                leaves.append(leaf_hash(canonical(content)))
                # Tab-separated text COPY: no value here holds a tab, newline or backslash.
                events.append("\t".join([
                    str(seq), content["occurred_at"], str(actor.pk), actor.username,
                    fields["action"], fields["object_type"], fields["object_id"],
                    fields["reason"], fields["policy_version"], json.dumps(data),
                    canonical(data).decode(), prev, digest, "",
                ]))  # fmt: skip
                prev = digest
            nodes = [
                f"{level}\t{index}\t\\\\x{digest.hex()}"
                for level, index, digest in merkle.append_nodes(size, frontier, leaves)
            ]
            size += len(leaves)
            columns = ", ".join(EVENT_COLUMNS)
            with cur.copy(f"COPY audit_auditevent ({columns}) FROM STDIN") as copy:
                copy.write("\n".join(events) + "\n")
            with cur.copy("COPY audit_merklenode (level, index, hash) FROM STDIN") as copy:
                copy.write("\n".join(nodes) + "\n")
        cur.execute(
            "INSERT INTO audit_chainhead (id, seq, hash) VALUES (1, %s, %s)"
            " ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash",
            [count, prev],
        )
        conn.commit()
    ctx.settle()


class _Meter:
    """Peak resident memory of this process during a call, above what it held before (Linux:
    writing 5 to /proc/self/clear_refs resets the high-water mark to the current size)."""

    @staticmethod
    def _status(field: str) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
        raise RuntimeError(f"no {field} in /proc/self/status")

    def peak_growth(self, fn) -> int:
        Path("/proc/self/clear_refs").write_text("5")
        before = self._status("VmRSS")
        fn()
        return self._status("VmHWM") - before


def _drain_csv() -> tuple[int, int]:
    # Chunks, not lines: the header as text, then COPY's rows in blocks (no value here holds a
    # newline, so newlines count rows, as on the baseline side).
    rows = size = 0
    for chunk in csv_lines(export_events(), chunk_size=5000):
        rows += chunk.count(b"\n" if isinstance(chunk, bytes) else "\n")
        size += len(chunk)
    return rows - 1, size


def _copy_csv(conn) -> tuple[int, int]:
    rows = size = 0
    with conn.cursor() as cur, cur.copy(copy_sql()) as copy:
        for block in copy:
            size += len(block)
            rows += bytes(block).count(b"\n")
    return rows - 1, size


@benchmark(
    "export_csv_1m",
    title=f"export {MILLION:,} audit events to CSV (peak memory < 200 MB)",
    measured="audit.exports.csv_lines(export_events()), the generator the API streams: the "
    "header, then COPY (SELECT the content columns, data as the stored canonical text) TO "
    "STDOUT WITH CSV through psycopg's cursor.copy() on Django's connection, joined into "
    "64 KiB chunks; every chunk consumed and its rows counted",
    baseline="PostgreSQL's COPY (SELECT the same columns ORDER BY seq) TO STDOUT WITH CSV, "
    "read block by block on a psycopg connection",
    unit="rate",
    item="events",
    target=4,  # at least a quarter of COPY's rate
)
def export_csv_1m(ctx: Context) -> Samples:
    size = ctx.size(MILLION, smoke=SMOKE)
    build_log(ctx, size)
    with ctx.raw() as conn:
        times, counts = alternate(
            {"measured": lambda _: _drain_csv(), "baseline": lambda _: _copy_csv(conn)},
            [None] * ctx.repeats,
        )
    peak = _Meter().peak_growth(_drain_csv)
    first = next(iter(csv_lines(export_events().filter(seq=1))))  # the header
    return Samples(
        times["measured"],
        times["baseline"],
        work=size,
        checks={
            "export wrote every event": all(rows == size for rows, _ in counts["measured"]),
            "COPY wrote every event": all(rows == size for rows, _ in counts["baseline"]),
            "same columns as COPY": first.strip() == ",".join(content_columns()),
            "peak memory growth under 200 MB": peak < 200 * 2**20,
        },
        extra={"peak memory growth of the export": f"{peak / 2**20:.0f} MB"},
    )


@benchmark(
    "verify_audit_1m",
    title=f"verify the audit chain of {MILLION:,} events (target < 20 s)",
    measured="audit.selectors.audit_verify_chain(): one streamed query of the events in seq "
    "order (libpq's chunked rows, 2,000 a chunk, built into tuples by psycopg's C code while "
    "the database formats the next on the other core), the time as the hashed text, the "
    "stored canonical data spliced into orjson's output, the HMAC resumed from a copy of the "
    "keyed state, the JSON column checked against the hashed text, redaction and head checks",
    baseline="raw psycopg cursor streaming the same columns in order, the HMAC chain "
    "recomputed in a plain loop with json/hmac, chain head check (bench/rows.py)",
)
def verify_audit_1m(ctx: Context) -> Samples:
    from .rows import _raw_verify

    size = ctx.size(MILLION, smoke=SMOKE)
    build_log(ctx, size)
    key = settings.AUDIT_HMAC_KEY.encode()
    cpu: list[float] = []

    def measured(_):
        # This process's CPU time besides the wall clock: on a shared machine it is the
        # figure that moves least with the neighbours' load.
        start = process_time()
        report = audit_verify_chain()
        cpu.append(process_time() - start)
        return report

    with ctx.raw() as conn:
        times, reports = alternate(
            {"measured": measured, "baseline": lambda _: _raw_verify(conn, key)},
            [None] * ctx.repeats,
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
            "the built log's signed head verifies from the events": tree.verify_tree_head(
                tree.tree_head_sign()
            ).ok,
        },
        extra={"measured side's CPU time in Python (best run)": f"{min(cpu):.1f} s"},
    )


PROOFS = 200


@benchmark(
    "inclusion_proof_1m",
    title=f"{PROOFS} inclusion proofs at {MILLION:,} leaves (target < 50 ms each)",
    measured="audit.tree.inclusion_proof(seq=, size=) for random events: the ranges named, "
    "every stored subtree they need read in one ORM query, folded",
    baseline="one raw psycopg query per proof fetching the same subtree rows by primary key "
    "(their keys computed beforehand, untimed), nothing folded",
    target=None,
)
def inclusion_proof_1m(ctx: Context) -> Samples:
    size = ctx.size(MILLION, smoke=SMOKE)
    build_log(ctx, size)
    picks = random.Random(9162).sample(range(1, size + 1), min(PROOFS, size))
    wanted = [
        sorted({node for start, end in merkle.inclusion_ranges(seq - 1, size)
                for node in merkle.pieces(start, end)})
        for seq in picks
    ]  # fmt: skip
    head = tree.tree_head_sign()
    root = bytes.fromhex(head.root_hash)

    def measured(_):
        return [tree.inclusion_proof(seq=seq, size=size) for seq in picks]

    def baseline(conn):
        with conn.cursor() as cur:
            return [
                cur.execute(
                    "SELECT level, index, hash FROM audit_merklenode"
                    " WHERE (level, index) IN (SELECT * FROM unnest(%s::int[], %s::bigint[]))",
                    [[lv for lv, _ in nodes], [ix for _, ix in nodes]],
                ).fetchall()
                for nodes in wanted
            ]

    with ctx.raw() as conn:
        times, values = alternate(
            {"measured": measured, "baseline": lambda _: baseline(conn)}, [None] * ctx.repeats
        )
    leaves = tree.read_nodes([(0, seq - 1) for seq in picks])
    per_proof = min(times["measured"]) / len(picks)
    return Samples(
        times["measured"],
        times["baseline"],
        work=len(picks),
        checks={
            "every proof verifies against the signed root": all(
                merkle.verify_inclusion(seq - 1, size, leaves[(0, seq - 1)], path, root)
                for seq, path in zip(picks, values["measured"][0], strict=True)
            ),
            "baseline read every node": all(
                len(rows) == len(nodes)
                for rows, nodes in zip(values["baseline"][0], wanted, strict=True)
            ),
            "a proof under 50 ms": per_proof < 0.050,
            "a wrong leaf fails": not merkle.verify_inclusion(
                picks[0] - 1,
                size,
                hashlib.sha256(b"forged").digest(),
                values["measured"][0][0],
                root,
            ),
        },
        extra={"one proof (best run, mean)": f"{per_proof * 1000:.2f} ms"},
    )
