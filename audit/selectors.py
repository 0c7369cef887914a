import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal

import orjson
from django.conf import settings
from django.db import connection
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from orjson import Fragment

from .chain import CHAINED_FIELDS, CONTENT_KEYS, GENESIS_HASH, canonical, redaction_mac
from .models import AuditEvent, ChainHead, ChainVerification


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    problem: str = ""


def audit_events(*, object_type: str | None = None, object_id=None) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.select_related("actor")
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id is not None:
        qs = qs.filter(object_id=str(object_id))
    return qs


# What verification reads per event, as one tuple: bookkeeping, the chained fields in
# CHAINED_FIELDS order (`occurred_at` already as the text that was hashed, `data` as the JSON
# column's text), then the canonical text of `data` that was hashed (null on raw-SQL rows).
_BOOKKEEPING = ("id", "prev_hash", "hash", "redaction_mac", "leaf_hash", "redacted_by")
_DATA = len(_BOOKKEEPING) + CHAINED_FIELDS.index("data")
# An event's time as `isoformat(timespec="microseconds")` of its UTC value, in the database.
_UTC_ISO = "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"
# Rows per chunk of the stream: enough that psycopg's per-chunk work vanishes, few enough that
# memory stays flat.
_STREAM_CHUNK = 2000


def _verify_rows_stream() -> Iterator[tuple]:
    """PostgreSQL: every event in seq order as one streamed query (libpq's chunked rows mode),
    each chunk's rows built into tuples by psycopg's C code. The server goes on sending while
    this process hashes, so the database reads and formats rows on one core while the hashing
    runs on the other; unlike COPY, there is no Python call per row to receive it, and unlike a
    server-side cursor's fetches, the two sides do not take turns."""
    columns = [*_BOOKKEEPING, *(_UTC_ISO if name == "occurred_at" else "data::text"
                                if name == "data" else name for name in CHAINED_FIELDS),
               "canonical_data"]  # fmt: skip
    sql = f"SELECT {', '.join(columns)} FROM audit_auditevent ORDER BY seq"
    with connection.cursor() as cursor:
        yield from cursor.cursor.stream(sql, size=_STREAM_CHUNK)


def _verify_rows_orm(chunk_size: int) -> Iterator[tuple]:
    """Elsewhere (the SQLite demo): the same tuples through the ORM."""
    rows = (
        AuditEvent.objects.annotate(data_text=Cast("data", TextField()))
        .order_by("seq")
        .values_list(
            *_BOOKKEEPING,
            *("data_text" if name == "data" else name for name in CHAINED_FIELDS),
            "canonical_data",
        )  # fmt: skip
        .iterator(chunk_size)
    )
    at = len(_BOOKKEEPING) + CHAINED_FIELDS.index("occurred_at")
    for row in rows:
        row = list(row)
        row[at] = row[at].astimezone(UTC).isoformat(timespec="microseconds")
        yield row


def _same_json(a, b) -> bool:
    """Equal as JSON values: numbers by value (jsonb writes -0.0 as 0.0 and 1e20 as an integer),
    everything else by kind and value (true is not 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return Decimal(repr(a)) == Decimal(repr(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_same_json, a, b))
    return type(a) is type(b) and a == b


def _agrees(json_text: str, hashed: str) -> bool:
    """Whether the JSON column still holds the data that was hashed as `hashed`."""
    try:
        if orjson.dumps(orjson.loads(json_text), option=orjson.OPT_SORT_KEYS) == hashed.encode():
            return True
    except (orjson.JSONDecodeError, TypeError):
        pass
    return _same_json(json.loads(json_text), json.loads(hashed))


def audit_verify_chain(*, chunk_size: int = 20000) -> ChainReport:
    """Walk the chain in seq order; report the first event whose link or content does not hold.

    An event's `data` is hashed as the canonical text stored beside it (`canonical_data`), and
    its JSON column must still hold the same values. A redacted event (see audit/retention.py)
    is checked by its link and its redaction MAC, as its content no longer recomputes its hash;
    the purge events it names must exist.

    Tuned for a million events: one streamed query on PostgreSQL, read in chunks (no model
    instances, no dicts per column, no datetime objects: the time comes as the very text that
    was hashed), the stored canonical text spliced into orjson's output unparsed
    (orjson.Fragment; json.dumps, which defines the canonical bytes, decides wherever the two
    disagree), the HMAC resumed from a copy of the keyed state (the key is not re-hashed per
    event), the JSON column's agreement tested inline by orjson before the careful comparison.
    """
    key = settings.AUDIT_HMAC_KEY.encode()
    expected_seq, prev = 1, GENESIS_HASH
    digest_of, same, dumps, fragment, loads = (hmac.digest, hmac.compare_digest, orjson.dumps,
                                               Fragment, orjson.loads)  # fmt: skip
    keyed = hmac.new(key, digestmod=hashlib.sha256).copy
    sort, agrees, keys, data_at = orjson.OPT_SORT_KEYS, _agrees, CONTENT_KEYS, _DATA
    purges: dict[int, int] = {}  # purge event seq -> the first event it redacted
    on_postgres = connection.vendor == "postgresql"
    rows = _verify_rows_stream() if on_postgres else _verify_rows_orm(chunk_size)
    # A stream left half-read holds the connection: a break closes it before returning.
    try:
        for row in rows:
            pk, prev_hash, digest, mac, leaf, redacted_by, seq = row[:7]
            json_text, hashed = row[data_at], row[-1]
            if seq != expected_seq:
                return ChainReport(
                    False, expected_seq - 1, pk, f"expected event #{expected_seq}, found #{seq}"
                )
            if prev_hash != prev:
                return ChainReport(False, seq - 1, pk, "does not link to the event before it")
            text = json_text if hashed is None else hashed
            if mac:
                content = dict(zip(keys, row[6:data_at], strict=False))
                content["data"] = json.loads(text)
                if leaf is None or redacted_by is None or redacted_by <= seq:
                    return ChainReport(False, seq - 1, pk, "is marked redacted without its proofs")
                expected = redaction_mac(key, digest=digest, leaf=bytes(leaf),
                                         redacted_by=redacted_by, content=content)  # fmt: skip
                if not same(expected, mac):
                    return ChainReport(
                        False, seq - 1, pk, "redacted content does not match its MAC"
                    )
                purges.setdefault(redacted_by, pk)
            else:
                content = dict(zip(keys, row[6:data_at], strict=False))
                try:
                    content["data"] = fragment(text) if hashed is not None else loads(text)
                    body = dumps(content, option=sort)
                except (orjson.JSONDecodeError, TypeError):
                    body = b""
                mac_of = keyed()
                mac_of.update(prev.encode() + b"\n" + body)
                if not same(mac_of.hexdigest(), digest):
                    # The definition: json reads the text and json.dumps writes the canonical bytes
                    # (for text that is not canonical, or strings orjson writes otherwise).
                    content["data"] = json.loads(text)
                    message = prev.encode() + b"\n" + canonical(content)
                    if not same(digest_of(key, message, "sha256").hex(), digest):
                        return ChainReport(False, seq - 1, pk, "content does not match its hash")
            if hashed is not None:
                try:
                    agreed = dumps(loads(json_text), option=sort) == hashed.encode()
                except (orjson.JSONDecodeError, TypeError):
                    agreed = False
                if not agreed and not agrees(json_text, hashed):
                    # The hashed text holds, but the JSON column was changed after it was hashed.
                    return ChainReport(False, seq - 1, pk, "content does not match its hash")
            prev = digest
            expected_seq += 1
    finally:
        rows.close()
    checked = expected_seq - 1
    if purges:
        found = set(
            AuditEvent.objects.filter(seq__in=purges, action="audit.purge").values_list(
                "seq", flat=True
            )
        )
        for purge_seq, pk in purges.items():
            if purge_seq not in found or purge_seq > checked:
                return ChainReport(
                    False, checked, pk, f"names purge event #{purge_seq}, which is not a purge"
                )
    head = ChainHead.objects.filter(pk=1).first()
    if head is not None and (head.seq != checked or head.hash != prev):
        last = AuditEvent.objects.order_by("-seq").values_list("id", flat=True).first()
        return ChainReport(
            False, checked, last, f"chain ends at #{checked} but its head records #{head.seq}"
        )
    return ChainReport(True, checked)


def chain_verifications_latest() -> tuple[ChainVerification | None, ChainVerification | None]:
    """The latest request (perhaps still waiting or running) and the latest finished result."""
    latest = ChainVerification.objects.select_related("requested_by").first()
    if latest is None or latest.finished_at is not None:
        return latest, latest
    finished = (
        ChainVerification.objects.filter(finished_at__isnull=False)
        .select_related("requested_by")
        .first()
    )
    return latest, finished


def chain_status() -> dict:
    """What the chain page shows: the last result, a pending run, the latest signed head, the
    place of a break, and the recent runs. Reads stored rows only."""
    from .models import SignedTreeHead

    latest, finished = chain_verifications_latest()
    pending = latest if latest is not None and latest.finished_at is None else None
    broken_seq = None
    if finished is not None and finished.ok is False:
        bad = AuditEvent.objects.filter(pk=finished.first_bad_id) if finished.first_bad_id else None
        found = bad.values_list("seq", flat=True).first() if bad is not None else None
        broken_seq = found or finished.verified_up_to + 1
    head = SignedTreeHead.objects.first()
    size = ChainHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0
    recent = ChainVerification.objects.select_related("requested_by")[:10]
    return {
        "verification": finished, "pending": pending, "broken_seq": broken_seq,
        "head": head, "events": size, "uncovered": size - head.tree_size if head else size,
        "recent": recent,
    }  # fmt: skip


def retention_policies():
    """Every retention policy version, newest first, with the people who drafted and published."""
    from .models import RetentionPolicyVersion

    return RetentionPolicyVersion.objects.select_related("drafted_by", "published_by")
