"""Timeline exports as files, and the verifiable bundle an outsider checks without our code.

A bundle is a zip of
- `events.jsonl`: one `{"seq", "content"}` line per event, `content` the exact object hashed;
- `proofs.jsonl`: each event's RFC 9162 inclusion proof in the tree head below;
- `history.jsonl`: the history rows the filter selects, every recorded field;
- `manifest.json`: the filter, the counts, each file's SHA-256 and size, the signed tree head;
- `manifest.sig`: base64 of the Ed25519 signature over manifest.json's bytes, made with the key
  that signs tree heads.
Every file is written line by line while it is hashed, so memory stays flat however large.
"""

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from . import exports, tree
from .exports import _Echo
from .history import history_sources
from .timeline import Entry, TimelineFilter, timeline_events, timeline_history, timeline_iter

BUNDLE_FORMAT = "licensedesk-audit-bundle/1"
CHUNK = 2000

# Timeline exports: the columns a person reads on the page, names not ids.
TIMELINE_COLUMNS = (
    "at", "source", "seq", "history_id", "object_type", "object", "object_id", "object_name",
    "action", "action_label", "actor", "actor_name", "reason", "policy_version", "contract",
    "customer",
)  # fmt: skip


def timeline_record(entry: Entry) -> dict:
    from .timeline import HISTORY_ACTION_NAMES

    return {
        "at": entry.at.isoformat(timespec="microseconds"),
        "source": "event" if entry.is_event else "history",
        "seq": entry.key if entry.is_event else None,
        "history_id": None if entry.is_event else entry.key,
        "object_type": entry.object_type,
        "object": entry.object_label,
        "object_id": entry.object_id,
        "object_name": entry.name,
        "action": entry.action if entry.is_event else HISTORY_ACTION_NAMES[entry.action],
        "action_label": entry.action_label,
        "actor": entry.actor_username,
        "actor_name": entry.actor,
        "reason": entry.reason,
        "policy_version": entry.policy_version,
        "contract": entry.contract,
        "customer": entry.customer,
    }


def timeline_jsonl(entries: Iterable[Entry]) -> Iterator[str]:
    for entry in entries:
        yield json.dumps(timeline_record(entry), ensure_ascii=False) + "\n"


def timeline_csv(entries: Iterable[Entry]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(TIMELINE_COLUMNS)
    for entry in entries:
        record = timeline_record(entry)
        yield writer.writerow(["" if record[c] is None else record[c] for c in TIMELINE_COLUMNS])


def timeline_lines(flt: TimelineFilter, fmt: str) -> Iterator[str]:
    entries = timeline_iter(flt)
    return timeline_csv(entries) if fmt == "csv" else timeline_jsonl(entries)


# Files written while hashed.


class _Hashing:
    def __init__(self, raw):
        self.raw, self.sha, self.size = raw, hashlib.sha256(), 0

    def write(self, data: bytes) -> None:
        self.raw.write(data)
        self.sha.update(data)
        self.size += len(data)


def write_lines(path: Path, lines: Iterable[str], progress: Callable[[int], None]) -> tuple:
    """Write lines to `path`; returns (sha256 hex, bytes). `progress` hears of every CHUNK."""
    with open(path, "wb") as raw:
        out = _Hashing(raw)
        for count, line in enumerate(lines, start=1):
            out.write(line.encode("utf-8"))
            if count % CHUNK == 0:
                progress(CHUNK)
    return out.sha.hexdigest(), out.size


def _history_lines(flt: TimelineFilter, tick: Callable[[], None]) -> Iterator[str]:
    for source in history_sources():
        qs = timeline_history(source, flt)
        if qs is None:
            continue
        attnames = [f.attname for f in source.tracked_fields()]
        rows = qs.order_by("history_date", "history_id").values(
            "history_id", "history_date", "history_type", "history_change_reason",
            "history_user__username", *attnames,
        )  # fmt: skip
        for row in rows.iterator(chunk_size=CHUNK):
            record = {
                "model": source.label,
                "history_id": row["history_id"],
                "history_date": row["history_date"].isoformat(timespec="microseconds"),
                "history_type": row["history_type"],
                "history_user": row["history_user__username"],
                "history_change_reason": row["history_change_reason"],
                "fields": {name: row[name] for name in attnames},
            }
            tick()
            yield json.dumps(record, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True)
            yield "\n"


def _event_rows(flt: TimelineFilter, size: int):
    qs = timeline_events(flt)
    if qs is None:
        return None
    return qs.filter(seq__lte=size).order_by("seq")


def bundle_counts(flt: TimelineFilter, size: int) -> tuple[int, int]:
    events = _event_rows(flt, size)
    history = [timeline_history(s, flt) for s in history_sources()]
    return (
        0 if events is None else events.count(),
        sum(qs.count() for qs in history if qs is not None),
    )


def _event_lines(events, tick: Callable[[], None]) -> Iterator[str]:
    if events is None:
        return
    # A redacted event's line carries the leaf hash it kept (audit/retention.py).
    for row in events.values(*exports.LINE_FIELDS).iterator(chunk_size=CHUNK):
        tick()
        yield exports.event_line(row)


def _proof_lines(events, size: int, tick: Callable[[], None]) -> Iterator[str]:
    if events is None:
        return
    seqs = events.values_list("seq", flat=True).iterator(chunk_size=CHUNK)
    batch: list[int] = []

    def flush():
        proofs = tree.inclusion_proofs(seqs=batch, size=size)
        for seq in batch:
            path = [digest.hex() for digest in proofs[seq]]
            tick()
            yield (
                json.dumps(
                    {"seq": seq, "leaf_index": seq - 1, "tree_size": size, "audit_path": path},
                    separators=(",", ":"),
                )
                + "\n"
            )

    for seq in seqs:
        batch.append(seq)
        if len(batch) == 500:
            yield from flush()
            batch = []
    if batch:
        yield from flush()


def _zip_entry(archive: zipfile.ZipFile, name: str, lines: Iterable[str]) -> dict:
    with archive.open(name, "w", force_zip64=True) as raw:
        out = _Hashing(raw)
        buffer = io.StringIO()
        for line in lines:
            buffer.write(line)
            if buffer.tell() > 1 << 16:
                out.write(buffer.getvalue().encode("utf-8"))
                buffer = io.StringIO()
        out.write(buffer.getvalue().encode("utf-8"))
    return {"sha256": out.sha.hexdigest(), "bytes": out.size}


def manifest_bytes(manifest: dict) -> bytes:
    return json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False).encode("utf-8")


def write_bundle(
    path: Path, *, flt: TimelineFilter, job_id: int, requested_by: str,
    progress: Callable[[int], None],
) -> dict:  # fmt: skip
    """Write the zip at `path`; returns its manifest. The tree head is the latest, signed now if
    newer events exist, and the bundle holds the filter's events up to its size."""
    head = tree.tree_head_latest()
    size = head.tree_size
    events = _event_rows(flt, size)
    counts = {"events": 0, "history": 0}
    pending = [0]

    def ticker(kind: str | None):
        def tick():
            if kind:
                counts[kind] += 1
            pending[0] += 1
            if pending[0] == CHUNK:
                progress(pending[0])
                pending[0] = 0

        return tick

    files = {}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        parts = {
            "events.jsonl": _event_lines(events, ticker("events")),
            "proofs.jsonl": _proof_lines(events, size, ticker(None)),
            "history.jsonl": _history_lines(flt, ticker("history")),
        }
        for name, lines in parts.items():
            files[name] = _zip_entry(archive, name, lines)
        manifest = {
            "format": BUNDLE_FORMAT,
            "export": job_id,
            "created_at": timezone.now().isoformat(timespec="seconds"),
            "created_by": requested_by,
            "filter": flt.as_dict(),
            "counts": counts,
            "files": files,
            "tree_head": {
                "tree_size": head.tree_size, "root_hash": head.root_hash,
                "signature": head.signature, "public_key": head.public_key,
                "signed_at": head.signed_at.isoformat(),
            },
        }  # fmt: skip
        body = manifest_bytes(manifest)
        archive.writestr("manifest.json", body)
        archive.writestr("manifest.sig", tree.sign_b64(body) + "\n")
    progress(pending[0])
    return manifest


def bundle_manifest(path: Path) -> dict:
    """The manifest of a bundle we wrote (read from the zip's directory, not the whole file)."""
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("manifest.json"))
