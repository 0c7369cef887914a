"""The events as an RFC 9162 Merkle log: stored subtrees, proofs, signed tree heads.

Arithmetic lives in `merkle.py`; this module reads and writes the rows it needs. Leaf i is the
event with seq = i + 1, its leaf hash covers the same canonical content as the HMAC chain.
"""

import base64
import binascii
import functools
import json
import operator
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import merkle
from .chain import CHAINED_FIELDS, canonical, event_content
from .models import AuditEvent, ChainHead, MerkleNode, SignedTreeHead

# The event columns its hashed content is built from: the chain's one list, and `data` as the
# canonical text that was hashed (which wins over the jsonb column wherever it is stored).
CONTENT_FIELDS = (*CHAINED_FIELDS, "canonical_data")


class TreeError(Exception):
    """A proof or head was asked for a tree the log cannot answer for; `field` names the input."""

    def __init__(self, message: str, field: str = "tree_size"):
        super().__init__(message)
        self.field = field


def content_of(event: AuditEvent | dict) -> dict:
    """The object the chain and the tree hash, from an event or a dict of its column values."""
    if not isinstance(event, dict):
        event = {field: getattr(event, field, None) for field in CONTENT_FIELDS}
    content = event_content(**{field: event[field] for field in CHAINED_FIELDS})
    text = event.get("canonical_data")
    if text is not None:
        # json reads canonical text back to values json.dumps writes to the same bytes.
        content["data"] = json.loads(text)
    return content


def leaf_of(content: dict) -> bytes:
    return merkle.leaf_hash(canonical(content))


def event_leaf(row: dict) -> bytes:
    """An event's leaf hash: from its content, or, once redacted, the leaf hash it kept."""
    if row.get("redaction_mac"):
        return bytes(row["leaf_hash"])
    return leaf_of(content_of(row))


def _nodes_query(nodes: Iterable[merkle.Node]) -> Q:
    # One condition per level (`index = ANY(...)`), not one per node: a proof at a million
    # leaves names some forty subtrees on twenty levels, and the query compiles and plans faster.
    levels: dict[int, list[int]] = {}
    for lv, ix in nodes:
        levels.setdefault(lv, []).append(ix)
    return functools.reduce(
        operator.or_, (Q(level=lv, index__in=ixs) for lv, ixs in sorted(levels.items()))
    )


def read_nodes(nodes: list[merkle.Node]) -> dict[merkle.Node, bytes]:
    """The stored hashes of the given perfect subtrees, in one query."""
    if not nodes:
        return {}
    rows = MerkleNode.objects.filter(_nodes_query(nodes)).values_list("level", "index", "hash")
    found = {(lv, ix): bytes(digest) for lv, ix, digest in rows}
    missing = [node for node in nodes if node not in found]
    if missing:
        raise TreeError(f"the Merkle log is missing subtree {missing[0]}; back-fill it first")
    return found


def tree_append(*, size: int, events: Iterable[AuditEvent]) -> None:
    """Store the subtrees completed by appending these events to a log of `size` leaves.

    Callers hold the chain head's lock, so `size` is the true size and no one else appends.
    """
    frontier = read_nodes(merkle.pieces(0, size))
    leaves = (leaf_of(content_of(event)) for event in events)
    rows = [
        MerkleNode(level=lv, index=ix, hash=digest)
        for lv, ix, digest in merkle.append_nodes(size, frontier, leaves)
    ]
    MerkleNode.objects.bulk_create(rows, batch_size=2000)


def tree_size() -> int:
    """Leaves in the log: the committed chain head."""
    return ChainHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0


def _check_size(size: int, field: str = "tree_size") -> None:
    current = tree_size()
    if size > current:
        raise TreeError(f"the log holds {current} events, not {size}", field)


def tree_root(size: int) -> bytes:
    _check_size(size)
    return merkle.range_hashes([(0, size)], read_nodes)[0]


def inclusion_proof(*, seq: int, size: int) -> list[bytes]:
    if not 1 <= seq <= size:
        raise TreeError(f"event #{seq} is not in a tree of {size} events", "seq")
    _check_size(size)
    return merkle.range_hashes(merkle.inclusion_ranges(seq - 1, size), read_nodes)


def consistency_proof(*, first: int, second: int) -> list[bytes]:
    if not 1 <= first <= second:
        raise TreeError("first must be at least 1 and at most second", "first")
    _check_size(second, "second")
    return merkle.range_hashes(merkle.consistency_ranges(first, second), read_nodes)


# Signed tree heads.


def head_message(size: int, root_hex: str) -> bytes:
    return f"licensedesk-tree-head:{size}:{root_hex}".encode("ascii")


def _private_key() -> Ed25519PrivateKey:
    try:
        raw = base64.b64decode(settings.AUDIT_SIGNING_KEY, validate=True)
    except binascii.Error:
        raw = b""
    if len(raw) != 32:
        raise ImproperlyConfigured("AUDIT_SIGNING_KEY must be base64 of a raw 32-byte Ed25519 key.")
    return Ed25519PrivateKey.from_private_bytes(raw)


def sign_b64(data: bytes) -> str:
    """base64 of the Ed25519 signature over `data`, by the key that signs tree heads."""
    return base64.b64encode(_private_key().sign(data)).decode()


def public_key_b64() -> str:
    raw = _private_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def tree_head_sign(*, size: int | None = None) -> SignedTreeHead:
    """Sign and store the head for `size` leaves (the current size by default); safe to repeat."""
    size = tree_size() if size is None else size
    existing = SignedTreeHead.objects.filter(tree_size=size).first()
    if existing is not None:
        return existing
    root_hex = tree_root(size).hex()
    signature = _private_key().sign(head_message(size, root_hex))
    with transaction.atomic():
        head, _ = SignedTreeHead.objects.get_or_create(
            tree_size=size,
            defaults={
                "root_hash": root_hex,
                "signature": base64.b64encode(signature).decode(),
                "public_key": public_key_b64(),
                "signed_at": timezone.now(),
            },
        )
    return head


def tree_head_latest() -> SignedTreeHead:
    """The newest signed head, signing the current size first when it is not yet covered."""
    head = SignedTreeHead.objects.order_by("-tree_size").first()
    if head is None or head.tree_size < tree_size():
        head = tree_head_sign()
    return head


@dataclass(frozen=True)
class TreeHeadReport:
    ok: bool
    problem: str = ""


def verify_tree_head(head: SignedTreeHead, *, chunk_size: int = 5000) -> TreeHeadReport:
    """Recompute the head's root from the events themselves (not the stored subtrees)."""
    try:
        Ed25519PublicKey.from_public_bytes(base64.b64decode(head.public_key)).verify(
            base64.b64decode(head.signature), head_message(head.tree_size, head.root_hash)
        )
    except (InvalidSignature, ValueError):
        return TreeHeadReport(False, "the signature does not match the head")
    rows = (
        AuditEvent.objects.filter(seq__lte=head.tree_size)
        .order_by("seq")
        .values(*CONTENT_FIELDS, "leaf_hash", "redaction_mac")
        .iterator(chunk_size=chunk_size)
    )
    expected = [1]

    def leaves():
        for row in rows:
            if row["seq"] != expected[0]:
                raise TreeError(f"expected event #{expected[0]}, found #{row['seq']}")
            expected[0] += 1
            yield event_leaf(row)

    try:
        size, root = merkle.root_of(leaves())
    except TreeError as error:
        return TreeHeadReport(False, str(error))
    if size != head.tree_size:
        return TreeHeadReport(False, f"the log holds {size} of the head's {head.tree_size} events")
    if root.hex() != head.root_hash:
        return TreeHeadReport(False, "the events' root differs from the signed root")
    return TreeHeadReport(True)


def inclusion_proofs(*, seqs: list[int], size: int) -> dict[int, list[bytes]]:
    """Inclusion proofs of many events in the tree of `size` leaves, reading every stored
    subtree they need in one query per level (proofs of nearby events share most of them)."""
    _check_size(size)
    wanted = {}
    for seq in seqs:
        if not 1 <= seq <= size:
            raise TreeError(f"event #{seq} is not in a tree of {size} events", "seq")
        ranges = merkle.inclusion_ranges(seq - 1, size)
        wanted[seq] = [merkle.pieces(start, end) for start, end in ranges]
    levels: dict[int, set[int]] = {}
    for pieces in wanted.values():
        for nodes in pieces:
            for level, index in nodes:
                levels.setdefault(level, set()).add(index)
    if not levels:
        return {seq: [] for seq in seqs}
    query = functools.reduce(
        operator.or_, (Q(level=level, index__in=sorted(ix)) for level, ix in levels.items())
    )
    known = {
        (level, index): bytes(digest)
        for level, index, digest in MerkleNode.objects.filter(query).values_list(
            "level", "index", "hash"
        )
    }
    try:
        return {
            seq: [merkle.fold([known[node] for node in nodes]) for nodes in pieces]
            for seq, pieces in wanted.items()
        }
    except KeyError as missing:
        raise TreeError(f"the Merkle log is missing subtree {missing}; back-fill it") from None
