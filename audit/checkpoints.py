"""Checkpoints of the chain's head, kept outside the database.

The chain proves that no event was changed or removed from its middle, but whoever can write the
database can also delete the last events and rewrite the head. So the head (seq, hash) is copied,
with an HMAC over both, to an append-only file in AUDIT_CHECKPOINT_DIR (hourly by Celery beat,
or `manage.py audit_checkpoint`), and verification checks the chain against every copy: a chain
shorter than a checkpoint, or with another hash at its seq, has lost its tail.
"""

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from .models import AuditEvent, ChainHead

FILE_NAME = "checkpoints.jsonl"


@dataclass(frozen=True)
class Checkpoint:
    line: int
    seq: int
    hash: str
    at: str
    mac: str

    def __str__(self) -> str:
        return f"checkpoint #{self.seq} of {self.at} (line {self.line} of {checkpoint_path()})"


def checkpoint_path() -> Path:
    return Path(settings.AUDIT_CHECKPOINT_DIR) / FILE_NAME


def checkpoint_mac(seq: int, digest: str) -> str:
    message = f"{seq}:{digest}".encode()
    return hmac.new(settings.AUDIT_HMAC_KEY.encode(), message, hashlib.sha256).hexdigest()


def checkpoints_read() -> list[Checkpoint]:
    path = checkpoint_path()
    if not path.exists():
        return []
    found = []
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
            found.append(Checkpoint(number, int(row["seq"]), str(row["hash"]), str(row["at"]),
                                    str(row["hmac"])))  # fmt: skip
        except (ValueError, KeyError, TypeError):
            found.append(Checkpoint(number, -1, "", "?", ""))
    return found


def checkpoint_write() -> Checkpoint | None:
    """Append the head; None when the last checkpoint already holds it (safe to run twice)."""
    head = ChainHead.objects.filter(pk=1).values_list("seq", "hash").first()
    if head is None or head[0] == 0:
        return None
    seq, digest = head
    existing = checkpoints_read()
    if existing and existing[-1].seq == seq and existing[-1].hash == digest:
        return None
    path = checkpoint_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    at = timezone.now().isoformat()
    row = {"seq": seq, "hash": digest, "at": at, "hmac": checkpoint_mac(seq, digest)}
    # O_APPEND: each write lands at the end, whatever else has the file open.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, (json.dumps(row, sort_keys=True) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return Checkpoint(len(existing) + 1, seq, digest, at, row["hmac"])


def checkpoints_problem() -> str | None:
    """The first checkpoint the chain does not hold, described; None when it holds them all."""
    checkpoints = checkpoints_read()
    if not checkpoints:
        return None
    hashes = dict(
        AuditEvent.objects.filter(seq__in={c.seq for c in checkpoints}).values_list("seq", "hash")
    )
    length = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    for checkpoint in checkpoints:
        if not hmac.compare_digest(checkpoint.mac, checkpoint_mac(checkpoint.seq, checkpoint.hash)):
            return f"{checkpoint}: its HMAC does not match; the checkpoint file was altered"
        if checkpoint.seq > length:
            return f"the chain ends at #{length}, shorter than {checkpoint}: its tail was removed"
        if hashes.get(checkpoint.seq) != checkpoint.hash:
            return f"event #{checkpoint.seq} disagrees with {checkpoint}: the chain was rewritten"
    return None
