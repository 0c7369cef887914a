from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from .chain import CHAINED_FIELDS, GENESIS_HASH, event_content, link_hash
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


def audit_verify_chain(*, chunk_size: int = 5000) -> ChainReport:
    """Walk the chain in seq order; report the first event whose link or content does not hold."""
    key = settings.AUDIT_HMAC_KEY.encode()
    expected_seq, prev = 1, GENESIS_HASH
    checked = 0
    rows = (
        AuditEvent.objects.order_by("seq")
        .values("id", "prev_hash", "hash", *CHAINED_FIELDS)
        .iterator(chunk_size=chunk_size)
    )
    for row in rows:
        pk, seq = row["id"], row["seq"]
        if seq != expected_seq:
            return ChainReport(False, checked, pk, f"expected event #{expected_seq}, found #{seq}")
        if row["prev_hash"] != prev:
            return ChainReport(False, checked, pk, "does not link to the event before it")
        content = event_content(**{name: row[name] for name in CHAINED_FIELDS})
        digest = row["hash"]
        if link_hash(key, prev, content) != digest:
            return ChainReport(False, checked, pk, "content does not match its hash")
        prev = digest
        expected_seq += 1
        checked += 1
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
