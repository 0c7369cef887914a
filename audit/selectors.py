import hmac
import json
from dataclasses import dataclass

import orjson
from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce
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


# Columns verification reads, as tuples: bookkeeping first, then the chained fields in order,
# `data` as the canonical text that was hashed (or, on a row written by raw SQL without it, the
# database's JSON text), and last whether the JSON column still says what that text says.
_CHAINED_COLUMNS = tuple("data_text" if name == "data" else name for name in CHAINED_FIELDS)
_VERIFY_COLUMNS = ("id", "prev_hash", "hash", "redaction_mac", "leaf_hash", "redacted_by",
                   *_CHAINED_COLUMNS, "data_agrees")  # fmt: skip
_OCCURRED_AT = CHAINED_FIELDS.index("occurred_at")
_DATA = CHAINED_FIELDS.index("data")


def _verify_rows(chunk_size: int):
    if connection.vendor == "postgresql":
        # jsonb equality compares numbers as numbers, so -0.0 stored as 0.0 still agrees, while
        # a changed value does not. Null where there is no canonical text to compare with.
        sql = "audit_auditevent.data = (audit_auditevent.canonical_data)::jsonb"
        agrees = ExpressionWrapper(RawSQL(sql, []), output_field=BooleanField())
    else:
        # Elsewhere (the SQLite demo) the JSON column's text, compared in Python.
        agrees = Cast("data", TextField())
    return (
        AuditEvent.objects.annotate(
            data_text=Coalesce("canonical_data", Cast("data", TextField())), data_agrees=agrees
        )
        .order_by("seq")
        .values_list(*_VERIFY_COLUMNS)
        .iterator(chunk_size)
    )


def audit_verify_chain(*, chunk_size: int = 20000) -> ChainReport:
    """Walk the chain in seq order; report the first event whose link or content does not hold.

    A redacted event (see audit/retention.py) is checked by its link and its redaction MAC, as
    its content no longer recomputes its hash; the purge events it names must exist.

    Tuned for a million events: one server-side cursor (PostgreSQL) read in large chunks, tuples
    not model instances or dicts, the stored canonical text of `data` spliced in unparsed
    (orjson.Fragment) while orjson writes the rest (json.dumps, which defines the canonical
    bytes, decides wherever the two disagree), one C call per HMAC.
    """
    key = settings.AUDIT_HMAC_KEY.encode()
    expected_seq, prev = 1, GENESIS_HASH
    digest_of, same, dumps, fragment = hmac.digest, hmac.compare_digest, orjson.dumps, Fragment
    sort = orjson.OPT_SORT_KEYS
    keys, at, data_at = CONTENT_KEYS, _OCCURRED_AT, _DATA
    purges: dict[int, int] = {}  # purge event seq -> the first event it redacted
    for pk, prev_hash, digest, mac, leaf, redacted_by, *values in _verify_rows(chunk_size):
        agrees = values.pop()
        if isinstance(agrees, str):
            agrees = json.loads(agrees) == json.loads(values[_DATA])
        seq = values[0]
        if seq != expected_seq:
            return ChainReport(
                False, expected_seq - 1, pk, f"expected event #{expected_seq}, found #{seq}"
            )
        if prev_hash != prev:
            return ChainReport(False, seq - 1, pk, "does not link to the event before it")
        values[at] = values[at].isoformat(timespec="microseconds")
        text = values[data_at]
        if mac:
            values[data_at] = json.loads(text)
            content = dict(zip(keys, values, strict=True))
            if leaf is None or redacted_by is None or redacted_by <= seq:
                return ChainReport(False, seq - 1, pk, "is marked redacted without its proofs")
            expected = redaction_mac(key, digest=digest, leaf=bytes(leaf),
                                     redacted_by=redacted_by, content=content)  # fmt: skip
            if not same(expected, mac):
                return ChainReport(False, seq - 1, pk, "redacted content does not match its MAC")
            purges.setdefault(redacted_by, pk)
        else:
            values[data_at] = fragment(text)
            content = dict(zip(keys, values, strict=True))
            try:
                body = dumps(content, option=sort)
            except TypeError:
                body = b""
            if not same(digest_of(key, prev.encode() + b"\n" + body, "sha256").hex(), digest):
                # The definition: json reads the text and json.dumps writes the canonical bytes
                # (for text that is not canonical, or strings orjson writes otherwise).
                content["data"] = json.loads(text)
                message = prev.encode() + b"\n" + canonical(content)
                if not same(digest_of(key, message, "sha256").hex(), digest):
                    return ChainReport(False, seq - 1, pk, "content does not match its hash")
        if agrees is False:
            # The hashed text holds, but the JSON column was changed after it was hashed.
            return ChainReport(False, seq - 1, pk, "content does not match its hash")
        prev = digest
        expected_seq += 1
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
