"""Retention: how long each kind of record is kept (a versioned policy), and the purge that
carries it out while the log stays verifiable.

Kinds of record and what happens when they are due:
- `audit.event`: redacted, never deleted. An event's personal content (`reason`, `data`,
  `actor_username`) is blanked; its seq, time, action, object, policy version and actor id stay.
  Its chained `hash` stays, so the HMAC chain still links through it; its Merkle leaf hash is
  kept (on the event and in the level-0 subtree row), so inclusion and consistency proofs and
  signed heads still verify; and `redaction_mac` binds what remains (see `chain.redaction_mac`).
  `verify_audit` checks a redacted event by its link and that MAC instead of its content. Events
  may be kept longer per object type (`by_object_type`). The purge's own events are never due.
- `audit.verification`: stored chain verification results, deleted; the latest finished one stays.
- `history`: the django-simple-history rows of every audited model, deleted (not redacted: why,
  and what always stays, in audit/retention_history.py), kept longer per model (`by_model`).
  A policy without this rule (retention/v1) keeps history for ever.

Legal holds stop the purge for what they cover: apps register what their holds cover
(`audit.registry.register_hold_source`), audit names none of them.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .chain import (
    CHAINED_FIELDS,
    REDACTED_VALUES,
    canonical,
    event_content,
    link_hash,
    redaction_mac,
)
from .history import model_label, object_types
from .models import AuditEvent, ChainVerification, MerkleNode, RetentionPolicyVersion
from .registry import HeldRecords, held_records
from .retention_history import history_labels, retention_purge_history
from .tree import CONTENT_FIELDS, content_of, leaf_of

PURGE_OBJECT_TYPE = "audit.retention"
MIN_DAYS, MAX_DAYS = 30, 100 * 366
# What each kind may do when due.
KINDS = {"audit.event": "redact", "audit.verification": "delete", "history": "delete"}
# Kinds a policy may leave out: what it does not name is kept for ever (retention/v1 had none).
OPTIONAL_KINDS = frozenset({"history"})
# Each kind as pages name it.
KIND_NAMES = {
    "audit.event": "Audit events",
    "audit.verification": "Chain verification results",
    "history": "Change history rows",
}
# retention/v1 as it was published (immutable).
V1_RULES = {
    "audit.event": {"keep_days": 2557, "then": "redact", "by_object_type": {}},
    "audit.verification": {"keep_days": 400, "then": "delete"},
}
# retention/v2 (audit migration 0008): history rows too, deleted after seven years.
DEFAULT_RULES = {
    **V1_RULES,
    "history": {"keep_days": 2557, "then": "delete", "by_model": {}},
}


class RetentionError(Exception):
    """A retention rule or policy step refused; `field` names the input it is about."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def _days(value, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise RetentionError(f"{where}: keep_days must be a whole number of days.", where)
    if not MIN_DAYS <= value <= MAX_DAYS:
        raise RetentionError(f"{where}: keep between {MIN_DAYS} and {MAX_DAYS} days.", where)
    return value


def parse_retention_rules(rules) -> dict:
    """The rules, checked: every kind named, each with keep_days and its one action."""
    if not isinstance(rules, dict):
        raise RetentionError("The rules must be an object of record kinds.", "rules")
    unknown = set(rules) - set(KINDS)
    if unknown:
        raise RetentionError(f"Unknown record kind {sorted(unknown)[0]!r}.", "rules")
    parsed = {}
    for kind, then in KINDS.items():
        rule = rules.get(kind)
        if rule is None and kind in OPTIONAL_KINDS:
            continue
        if not isinstance(rule, dict):
            raise RetentionError(f"{kind}: say how long it is kept.", kind)
        if rule.get("then", then) != then:
            done = {"redact": "redacted", "delete": "deleted"}[then]
            raise RetentionError(f"{kind}: records of this kind can only be {done}.", kind)
        parsed[kind] = {"keep_days": _days(rule.get("keep_days"), kind), "then": then}
    overrides = rules["audit.event"].get("by_object_type", {})
    if not isinstance(overrides, dict):
        raise RetentionError(
            "audit.event: by_object_type maps object types to days.", "audit.event"
        )
    parsed["audit.event"]["by_object_type"] = {
        str(otype): _days(days, f"audit.event:{otype}") for otype, days in overrides.items()
    }
    if "history" in parsed:
        parsed["history"]["by_model"] = _by_model(rules["history"].get("by_model", {}))
    return parsed


def _by_model(overrides) -> dict[str, int]:
    if not isinstance(overrides, dict):
        raise RetentionError("history: by_model maps model labels to days.", "history")
    known = history_labels()
    for label in overrides:
        if label not in known:
            raise RetentionError(f"history: no history is kept for {label!r}.", "history")
    return {label: _days(days, f"history:{label}") for label, days in overrides.items()}


# The policy: drafted, published by somebody else, immutable from then on.


def retention_policy_in_force(*, on: date) -> RetentionPolicyVersion:
    policy = (
        RetentionPolicyVersion.objects.filter(
            status=RetentionPolicyVersion.Status.PUBLISHED, effective_from__lte=on
        )
        .order_by("-effective_from", "-number")
        .first()
    )
    if policy is None:
        raise RetentionError(f"No retention policy is in force on {on:%d %b %Y}.")
    return policy


def _stamp(policy, *, actor, reason: str) -> None:
    policy._history_user, policy._change_reason = actor, reason


@transaction.atomic
def retention_policy_draft(
    *, actor, rules: dict, summary: str, effective_from: date, reason: str, on: date | None = None
) -> RetentionPolicyVersion:
    """A new draft (the next number); `on` (today, from pages) refuses a date already past."""
    from .services import audit_record

    if not actor.has_perm("audit.add_retentionpolicyversion"):
        raise PermissionDenied("Your role may not draft retention policies.")
    if not (summary or "").strip():
        raise RetentionError("Say what changes: the summary is the changelog entry.", "summary")
    if not (reason or "").strip():
        raise RetentionError("Give a reason: every change records why it was made.", "reason")
    if on is not None and effective_from < on:
        raise RetentionError("A policy cannot take effect in the past.", "effective_from")
    parse_retention_rules(rules)
    number = (
        RetentionPolicyVersion.objects.order_by("-number").values_list("number", flat=True).first()
        or 0
    ) + 1
    policy = RetentionPolicyVersion(number=number, rules=rules, summary=summary.strip(),
                                    effective_from=effective_from, drafted_by=actor)  # fmt: skip
    _stamp(policy, actor=actor, reason=reason)
    policy.save()
    audit_record(actor=actor, action="retention_policy.draft", object_type="audit.retentionpolicy",
                 object_id=policy.pk, reason=reason, policy_version=policy.label,
                 data={"rules": rules, "effective_from": effective_from})  # fmt: skip
    return policy


def retention_policy_publish_refusal(actor, policy: RetentionPolicyVersion) -> str | None:
    """Why `actor` may not publish `policy` now, or None: asked by pages, enforced below."""
    if not actor.has_perm("audit.change_retentionpolicyversion"):
        return "Your role may not publish retention policies."
    if policy.status != RetentionPolicyVersion.Status.DRAFT:
        return f"Retention policy v{policy.number} is {policy.status}; only a draft publishes."
    if policy.drafted_by_id == actor.pk:
        return "Somebody other than its drafter must publish a policy: you drafted this one."
    return None


@transaction.atomic
def retention_policy_publish(*, actor, policy_id: int, reason: str, on: date):
    from .services import audit_record

    if not actor.has_perm("audit.change_retentionpolicyversion"):
        raise PermissionDenied("Your role may not publish retention policies.")
    if not (reason or "").strip():
        raise RetentionError("Give a reason: every change records why it was made.", "reason")
    policy = RetentionPolicyVersion.objects.select_for_update().filter(pk=policy_id).first()
    if policy is None:
        raise RetentionError(f"There is no retention policy {policy_id}.")
    refusal = retention_policy_publish_refusal(actor, policy)
    if refusal:
        raise RetentionError(refusal)
    if policy.effective_from < on:
        raise RetentionError("A policy cannot take effect in the past.", "effective_from")
    parse_retention_rules(policy.rules)
    policy.status = RetentionPolicyVersion.Status.PUBLISHED
    policy.published_at, policy.published_by = timezone.now(), actor
    _stamp(policy, actor=actor, reason=reason)
    policy.save()
    audit_record(actor=actor, action="retention_policy.publish",
                 object_type="audit.retentionpolicy", object_id=policy.pk, reason=reason,
                 policy_version=policy.label,
                 data={"effective_from": policy.effective_from})  # fmt: skip
    return policy


# What is due.


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _held_q(holds: list[HeldRecords]) -> Q:
    q = Q(pk__in=[])
    for held in holds:
        ids = sorted(held.object_ids)
        if not ids:
            continue
        if held.data_key:
            # `data` holds ids as JSON numbers or strings, as each service wrote them.
            numbers = [int(i) for i in ids if i.isdigit()]
            # has_key first: an event without the key must not turn NOT IN into NULL (kept).
            q |= Q(data__has_key=held.data_key) & Q(
                **{f"data__{held.data_key}__in": [*numbers, *ids]}
            )
        else:
            q |= Q(object_type=held.object_type, object_id__in=ids)
    return q


def due_events(*, rules: dict, on: date) -> QuerySet[AuditEvent]:
    """Unredacted events older than their kind's keep_days on `on`, holds not yet applied."""
    rule = rules["audit.event"]
    # An override names a model's label; events about it may use a shorter alias (credits.change).
    overrides: dict[str, int] = {}
    for otype, days in rule["by_object_type"].items():
        for name in (otype, *object_types(model_label(otype))):
            overrides.setdefault(name, days)
    q = Q(occurred_at__lt=_start_of(on - timedelta(days=rule["keep_days"])))
    q &= ~Q(object_type__in=[PURGE_OBJECT_TYPE, *overrides])
    for otype, days in overrides.items():
        q |= Q(object_type=otype, occurred_at__lt=_start_of(on - timedelta(days=days)))
    return AuditEvent.objects.filter(q, redacted_at__isnull=True).exclude(
        object_type=PURGE_OBJECT_TYPE
    )


@dataclass
class PurgeReport:
    policy: str
    redacted: int = 0
    held: int = 0
    verifications_removed: int = 0
    history_deleted: int = 0
    history_held: int = 0
    refused: list[int] = field(default_factory=list)  # seqs that failed their own check
    purge_events: list[int] = field(default_factory=list)

    def __str__(self) -> str:
        text = (f"{self.policy}: {self.redacted} events redacted, {self.held} kept under hold, "
                f"{self.verifications_removed} verification results removed, "
                f"{self.history_deleted} history rows deleted "
                f"({self.history_held} kept under hold)")  # fmt: skip
        if self.refused:
            text += f"; {len(self.refused)} events NOT redacted: they fail verification"
        return text


def _ranges(seqs: list[int]) -> list[list[int]]:
    ranges: list[list[int]] = []
    for seq in seqs:
        if ranges and ranges[-1][1] == seq - 1:
            ranges[-1][1] = seq
        else:
            ranges.append([seq, seq])
    return ranges


def _redact_batch(*, actor, policy, seqs: list[int], held: int, report: PurgeReport) -> None:
    from .services import audit_record

    key = settings.AUDIT_HMAC_KEY.encode()
    with transaction.atomic():
        rows = list(
            AuditEvent.objects.select_for_update()
            .filter(seq__in=seqs, redacted_at__isnull=True)
            .order_by("seq")
            .values("id", "prev_hash", "hash", *CONTENT_FIELDS)
        )
        leaves = dict(
            MerkleNode.objects.filter(level=0, index__in=[r["seq"] - 1 for r in rows]).values_list(
                "index", "hash"
            )
        )
        good = []
        for row in rows:
            content = content_of(row)
            leaf = leaf_of(content)
            stored = leaves.get(row["seq"] - 1)
            # Only what verifies is redacted: forgetting a tampered event's content would hide it.
            if link_hash(key, row["prev_hash"], content) != row["hash"] or (
                stored is None or bytes(stored) != leaf
            ):
                report.refused.append(row["seq"])
                continue
            good.append((row, leaf))
        if not good:
            return
        ranges = _ranges([row["seq"] for row, _ in good])
        event = audit_record(
            actor=actor, action="audit.purge", object_type=PURGE_OBJECT_TYPE,
            object_id=policy.number, policy_version=policy.label,
            reason=f"Retention: events past {policy.label}'s keep period redacted",
            data={"redacted": len(good), "ranges": ranges, "held": held},
        )  # fmt: skip
        now = timezone.now()
        updated = []
        for row, leaf in good:
            remaining = {name: row[name] for name in CHAINED_FIELDS} | REDACTED_VALUES
            mac = redaction_mac(key, digest=row["hash"], leaf=leaf, redacted_by=event.seq,
                                content=event_content(**remaining))  # fmt: skip
            updated.append(
                AuditEvent(
                    pk=row["id"],
                    **REDACTED_VALUES,
                    canonical_data=canonical(REDACTED_VALUES["data"]).decode(),
                    redacted_at=now,
                    redacted_by=event.seq,
                    leaf_hash=leaf,
                    redaction_mac=mac,
                )  # fmt: skip
            )
        AuditEvent.objects.bulk_update(
            updated,
            [
                *REDACTED_VALUES,
                "canonical_data",
                "redacted_at",
                "redacted_by",
                "leaf_hash",
                "redaction_mac",
            ],
            batch_size=1000,
        )
        report.redacted += len(good)
        report.purge_events.append(event.seq)


def retention_purge(*, on: date, actor=None, batch_size: int = 5000) -> PurgeReport:
    """Carry out the policy in force on `on`: redact due events, delete due verification results
    and history rows.

    Safe to run twice: redacted events are no longer due, so a second run changes nothing and
    records nothing. Each batch is one transaction with its own `audit.purge` event naming the
    redacted seqs, so a purge interrupted half-way leaves whole batches behind it.
    """
    policy = retention_policy_in_force(on=on)
    rules = parse_retention_rules(policy.rules)
    report = PurgeReport(policy.label)
    due = due_events(rules=rules, on=on)
    holds = held_records(on)
    unheld = due.exclude(_held_q(holds)) if holds else due
    report.held = due.count() - unheld.count() if holds else 0
    after = 0
    while True:
        seqs = list(
            unheld.filter(seq__gt=after).order_by("seq").values_list("seq", flat=True)[:batch_size]
        )
        if not seqs:
            break
        _redact_batch(actor=actor, policy=policy, seqs=seqs, held=report.held, report=report)
        after = seqs[-1]
    report.verifications_removed = _purge_verifications(rules, on=on, actor=actor, policy=policy)
    history = retention_purge_history(rules=rules, on=on, actor=actor, policy=policy, holds=holds)
    report.history_deleted, report.history_held = history.total, history.held
    return report


def _purge_verifications(rules: dict, *, on: date, actor, policy) -> int:
    from .services import audit_record

    cutoff = _start_of(on - timedelta(days=rules["audit.verification"]["keep_days"]))
    latest = ChainVerification.objects.filter(finished_at__isnull=False).values_list("pk")[:1]
    with transaction.atomic():
        due = ChainVerification.objects.filter(requested_at__lt=cutoff, finished_at__isnull=False)
        deleted, _ = due.exclude(pk__in=[pk for (pk,) in latest]).delete()
        if deleted:
            audit_record(
                actor=actor, action="audit.purge", object_type=PURGE_OBJECT_TYPE,
                object_id=policy.number, policy_version=policy.label,
                reason=f"Retention: verification results past {policy.label}'s keep period "
                "deleted", data={"verifications_removed": deleted},
            )  # fmt: skip
    return deleted
