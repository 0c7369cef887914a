"""Time-bound API tokens of API-quota entitlements: issue, renew before expiry, revoke.

A token lives ``api_token_days`` (lifecycle policy, 30 by default) and is renewed by the nightly
job in the last ``api_token_renew_days`` (7) of its life: a successor token is issued and the old
one runs out on its own date, so clients can swap without an outage. Renewal needs the
entitlement live (active or restored), still set to renew, on an active contract: a
deprovisioning run suppresses renewal at once, so from termination on no token is renewed, and
revoking (or expiring) the entitlement revokes its live tokens the same moment.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from audit.services import EventSpec, audit_record, audit_record_many

from ..errors import DomainError
from ..models import ENTITLEMENT_PERM, ApiToken, Contract, Entitlement
from ._common import _lifecycle_policy, _require_perm, _require_reason, _stamp, system_actor

TOKEN_PREFIX = "ldk_"
LIVE_STATES = (Entitlement.State.ACTIVE, Entitlement.State.RESTORED)


def _days(on: date) -> tuple[int, int]:
    rules = _lifecycle_policy(on).rules
    return int(rules.get("api_token_days", 30)), int(rules.get("api_token_renew_days", 7))


def _hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def _new_token(entitlement_id: int, *, issued_at: datetime, expires_at: datetime):
    from ..deprovisioning.systems import seal_secret

    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        entitlement_id=entitlement_id, prefix=plaintext[:12], token_hash=_hash(plaintext),
        token_sealed=seal_secret(plaintext), issued_at=issued_at, expires_at=expires_at,
    )  # fmt: skip
    return token, plaintext


def api_token_refusal(entitlement: Entitlement) -> str | None:
    """Why ``entitlement`` may not be given (or renewed) a token now, or ``None``."""
    if entitlement.kind != Entitlement.Kind.API_QUOTA:
        return "Only API-quota entitlements carry API tokens."
    if entitlement.state not in LIVE_STATES:
        return f"The entitlement is {entitlement.get_state_display().lower()}."
    if entitlement.contract.status != Contract.Status.ACTIVE:
        return f"The contract is {entitlement.contract.get_status_display().lower()}."
    return None


def api_token_renewal_refusal(token: ApiToken) -> str | None:
    """Why ``token`` is not renewed, or ``None``: renewal stops once the contract is ending."""
    if token.revoked_at is not None:
        return "The token was revoked."
    if token.renewed_by_id is not None:
        return "The token was already renewed."
    if token.entitlement.renewal == Entitlement.Renewal.NONE:
        return "The entitlement no longer renews."
    return api_token_refusal(token.entitlement)


@transaction.atomic
def api_token_issue(*, actor, entitlement_id: int, reason: str) -> tuple[ApiToken, str]:
    """A new token for the entitlement; returns it with its plaintext (shown once)."""
    _require_perm(actor, ENTITLEMENT_PERM, "issue API tokens")
    reason = _require_reason(reason)
    entitlement = (
        Entitlement.objects.select_for_update(of=("self",)).select_related("contract")
        .get(pk=entitlement_id)
    )  # fmt: skip
    refusal = api_token_refusal(entitlement)
    if refusal:
        raise DomainError(refusal)
    now = timezone.now()
    lifetime, _ = _days(timezone.localdate())
    token, plaintext = _new_token(entitlement.pk, issued_at=now,
                                  expires_at=now + timedelta(days=lifetime))  # fmt: skip
    _stamp(token, actor=actor, reason=reason)
    token.save()
    audit_record(
        actor=actor, action="api_token.issue", object_type="licensing.apitoken",
        object_id=token.pk, reason=reason, policy_version=_lifecycle_policy(now.date()).label,
        data={"entitlement": entitlement.pk, "prefix": token.prefix,
              "expires_at": token.expires_at.isoformat()},
    )  # fmt: skip
    return token, plaintext


def api_tokens_renew_due(*, now: datetime) -> dict[str, int]:
    """Nightly: renew every live token in its last days whose entitlement still renews.

    Each token is claimed under its row lock, so a second run renews nothing twice. Tokens that
    may not renew are left to run out (they are counted as ``stopped``).
    """
    on = timezone.localdate(now)
    _, renew_days = _days(on)
    due = ApiToken.objects.filter(
        revoked_at__isnull=True, renewed_by__isnull=True, expires_at__gt=now,
        expires_at__lte=now + timedelta(days=renew_days),
    ).order_by("pk").values_list("pk", flat=True)  # fmt: skip
    counts = {"renewed": 0, "stopped": 0}
    actor = system_actor()
    for pk in list(due):
        counts["renewed" if _renew_one(pk, actor=actor, now=now) else "stopped"] += 1
    return counts


@transaction.atomic
def _renew_one(token_id: int, *, actor, now: datetime) -> bool:
    token = (
        ApiToken.objects.select_for_update(of=("self",))
        .select_related("entitlement__contract").get(pk=token_id)
    )  # fmt: skip
    if api_token_renewal_refusal(token):
        return False
    lifetime, _ = _days(timezone.localdate(now))
    reason = "Renewed before it expires"
    successor, _plaintext = _new_token(
        token.entitlement_id, issued_at=now, expires_at=token.expires_at + timedelta(days=lifetime)
    )
    _stamp(successor, actor=actor, reason=reason)
    successor.save()
    token.renewed_by = successor
    _stamp(token, actor=actor, reason=reason)
    token.save(update_fields=["renewed_by"])
    audit_record(
        actor=actor, action="api_token.renew", object_type="licensing.apitoken",
        object_id=token.pk, reason=reason, policy_version=_lifecycle_policy(now.date()).label,
        data={"entitlement": token.entitlement_id, "successor": successor.pk,
              "expires_at": successor.expires_at.isoformat()},
    )  # fmt: skip
    return True


def api_tokens_revoke_for(*, actor, entitlement_ids: list[int], reason: str, policy) -> int:
    """Revoke every live token of these entitlements (called inside their revocation)."""
    tokens = list(
        ApiToken.objects.select_for_update(of=("self",))
        .filter(entitlement_id__in=entitlement_ids, revoked_at__isnull=True).order_by("pk")
    )  # fmt: skip
    if not tokens:
        return 0
    now = timezone.now()
    ApiToken.objects.filter(pk__in=[t.pk for t in tokens]).update(revoked_at=now)
    for token in tokens:
        token.revoked_at = now
    ApiToken.history.bulk_history_create(
        tokens, update=True, default_user=actor, default_change_reason=reason
    )
    audit_record_many(actor=actor, specs=[
        EventSpec(action="api_token.revoke", object_type="licensing.apitoken",
                  object_id=str(t.pk), reason=reason, policy_version=policy.label,
                  data={"entitlement": t.entitlement_id, "prefix": t.prefix})
        for t in tokens
    ])  # fmt: skip
    return len(tokens)
