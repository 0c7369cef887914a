"""Pure hash-chain arithmetic: no database, so a verifier can reimplement it from this page."""

import hashlib
import hmac
import json

GENESIS_HASH = "0" * 64


def canonical(content: dict) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# The event's fields the hash covers, by their names on the model: the chain's one list.
# Recording, verification and anyone re-implementing the chain read it from here.
CHAINED_FIELDS = (
    "seq", "occurred_at", "actor_id", "actor_username", "action", "object_type", "object_id",
    "reason", "policy_version", "data",
)  # fmt: skip


def event_content(**fields) -> dict:
    """What an event's hash covers, from exactly its CHAINED_FIELDS (an aware `occurred_at`)."""
    if set(fields) != set(CHAINED_FIELDS):
        raise TypeError(f"event_content takes exactly {', '.join(CHAINED_FIELDS)}")
    content = dict(fields)
    content["occurred_at"] = fields["occurred_at"].isoformat(timespec="microseconds")
    # The chain has hashed the username under "actor" since its first event.
    content["actor"] = content.pop("actor_username")
    return content


def link_hash(key: bytes, prev_hash: str, content: dict) -> str:
    return hmac.digest(key, prev_hash.encode() + b"\n" + canonical(content), "sha256").hex()


# The content's keys in CHAINED_FIELDS order, for readers that take column values as tuples
# (verification of a million events builds no keyword dicts): `dict(zip(CONTENT_KEYS, values))`
# with `occurred_at` formatted is `event_content` of those values.
CONTENT_KEYS = tuple("actor" if name == "actor_username" else name for name in CHAINED_FIELDS)


# Redaction (audit/retention.py). A redacted event keeps `hash` (the chain still links through
# it) and its Merkle leaf hash (proofs still verify), but its personal fields are blanked, so its
# content no longer recomputes `hash`. What is left is bound instead by this MAC, under the same
# key, over the kept hashes, the purge event that redacted it and the remaining content: without
# the key nobody can alter a redacted event, or pass an altered event off as redacted.
REDACTED_FIELDS = ("reason", "data", "actor_username")
REDACTED_VALUES = {"reason": "", "data": {}, "actor_username": ""}


def redaction_mac(key: bytes, *, digest: str, leaf: bytes, redacted_by: int, content: dict) -> str:
    message = b"\n".join(
        [b"redacted", digest.encode(), leaf.hex().encode(), str(redacted_by).encode(),
         canonical(content)]
    )  # fmt: skip
    return hmac.new(key, message, hashlib.sha256).hexdigest()
