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
    return hmac.new(
        key, prev_hash.encode() + b"\n" + canonical(content), hashlib.sha256
    ).hexdigest()
