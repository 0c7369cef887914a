"""Pure hash-chain arithmetic: no database, so a verifier can reimplement it from this page."""

import hashlib
import hmac
import json
from datetime import datetime

GENESIS_HASH = "0" * 64


def canonical(content: dict) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_content(
    *,
    seq: int,
    occurred_at: datetime,
    actor_id: int | None,
    actor_username: str,
    action: str,
    object_type: str,
    object_id: str,
    reason: str,
    policy_version: str,
    data: dict,
) -> dict:
    return {
        "seq": seq,
        "occurred_at": occurred_at.isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor": actor_username,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "reason": reason,
        "policy_version": policy_version,
        "data": data,
    }


def link_hash(key: bytes, prev_hash: str, content: dict) -> str:
    return hmac.new(
        key, prev_hash.encode() + b"\n" + canonical(content), hashlib.sha256
    ).hexdigest()
