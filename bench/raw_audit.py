"""The audit rows a raw-SQL baseline writes: the HMAC chain and the Merkle log's subtrees.

Baselines write what the audit service writes, by hand: events chained with audit.chain, then
the subtrees that appending them completes (audit.merkle), so the service's next append finds
the log whole.
"""

from psycopg.types.json import Jsonb

from audit import merkle
from audit.chain import canonical, event_content, link_hash


def raw_tree_append(cur, *, size: int, contents: list[dict]) -> None:
    """Store the subtrees completed by appending events of these contents to `size` leaves."""
    pieces = merkle.pieces(0, size)
    frontier = {}
    if pieces:
        rows = cur.execute(
            'SELECT level, "index", hash FROM audit_merklenode'
            ' WHERE (level, "index") IN (SELECT * FROM unnest(%s::int[], %s::bigint[]))',
            [[lv for lv, _ in pieces], [ix for _, ix in pieces]],
        ).fetchall()
        frontier = {(lv, ix): bytes(digest) for lv, ix, digest in rows}
    leaves = (merkle.leaf_hash(canonical(content)) for content in contents)
    with cur.copy('COPY audit_merklenode (level, "index", hash) FROM STDIN') as copy:
        for node in merkle.append_nodes(size, frontier, leaves):
            copy.write_row(node)


def raw_audit(cur, *, key: bytes, actor, reason: str, policy: str, events, now) -> None:
    """Append (action, object_type, object_id, data) events to the chain and the log."""
    seq, prev = cur.execute(
        "SELECT seq, hash FROM audit_chainhead WHERE id = 1 FOR UPDATE"
    ).fetchone()
    size, rows, contents = seq, [], []
    for action, object_type, object_id, data in events:
        seq += 1
        content = event_content(
            seq=seq, occurred_at=now, actor_id=actor.pk, actor_username=actor.username,
            action=action, object_type=object_type, object_id=str(object_id), reason=reason,
            policy_version=policy, data=data,
        )  # fmt: skip
        digest = link_hash(key, prev, content)
        rows.append((seq, now, actor.pk, actor.username, action, object_type, str(object_id),
                     reason, policy, Jsonb(data), canonical(data).decode(), prev,
                     digest))  # fmt: skip
        contents.append(content)
        prev = digest
    cur.executemany(
        "INSERT INTO audit_auditevent (seq, occurred_at, actor_id, actor_username, action,"
        " object_type, object_id, reason, policy_version, data, canonical_data, prev_hash, hash)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        rows,
    )
    raw_tree_append(cur, size=size, contents=contents)
    cur.execute("UPDATE audit_chainhead SET seq = %s, hash = %s WHERE id = 1", [seq, prev])
