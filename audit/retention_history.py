"""The history purge: django-simple-history rows (the Historical* table of every audited model)
past their keep period are deleted, by the nightly retention purge (audit.retention).

Why delete rather than redact: a history row is a copy of a record as it was, kept for people to
read what changed; the proof-grade record of every change is the audit event chain, which no
history row is part of (no hash, leaf or proof covers one). A history row has no hash to keep,
and blanking its personal fields would leave a row that says nothing while the table grows for
ever, so once it is due it goes. What never goes:
- the newest row of an object that still exists: it is the object's current state, and the
  next change is read against it. Once the object itself is deleted all its rows may go.
- rows a legal hold covers. Holds come from the hold source registry (audit.registry), as for
  events: a hold naming records of a history table's model keeps their rows, and a hold naming
  records of a scope model (settings.AUDIT_SCOPE_MODELS: a contract, a customer) keeps the rows
  of every table whose model leads to them by foreign keys (audit.history: an entitlement, a
  line, an assignment, a breach case of the held contract). Audit names no app.

Set-based: per table, a few DELETE statements over ranges of history ids, each deciding "newer
row exists", "object gone" and "held" in SQL, so no query runs per row; a million rows is a few
dozen statements. The whole history purge is one transaction with one `audit.purge` event giving
the counts per table, so an interrupted run deletes nothing and a repeat finds nothing more due.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Exists, Max, Min, OuterRef, Q
from django.utils import timezone

from .history import Source, history_sources, model_label, scope_model
from .registry import HeldRecords

# History ids covered by one DELETE statement.
CHUNK = 50_000


@dataclass
class HistoryPurge:
    deleted: dict[str, int] = field(default_factory=dict)  # source label -> rows deleted
    held: int = 0

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


def history_labels() -> dict[str, str]:
    """Every history table's model label and its name as people read it."""
    return {source.label: source.verbose_name for source in history_sources()}


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _held_q(source: Source, holds: list[HeldRecords]) -> Q | None:
    """The rows of `source` a hold covers: by its own ids, or by a scope model's ids."""
    pk = source.live._meta.pk.attname
    scopes = {}
    for scope in source.paths:
        target = scope_model(scope)
        if target is not None:
            scopes[target._meta.label_lower] = source.lookup(scope)
    q = None
    for held in holds:
        if held.data_key or not held.object_ids:
            continue
        label = model_label(held.object_type)
        lookup = pk if label == source.label else scopes.get(label)
        if lookup is None:
            continue
        term = Q(**{f"{lookup}__in": sorted(held.object_ids)})
        q = term if q is None else q | term
    return q


def _due(source: Source, *, cutoff: datetime):
    """Rows older than `cutoff` that are not their live object's newest row."""
    rows = source.model._base_manager
    pk = source.live._meta.pk.attname
    newer = rows.filter(**{pk: OuterRef(pk)}).filter(
        Q(history_date__gt=OuterRef("history_date"))
        | Q(history_date=OuterRef("history_date"), history_id__gt=OuterRef("history_id"))
    )
    live = source.live._base_manager.filter(pk=OuterRef(pk))
    return rows.filter(history_date__lt=cutoff).filter(Exists(newer) | ~Exists(live))


def purge_history(*, rule: dict, on: date, holds: list[HeldRecords]) -> HistoryPurge:
    """Delete due history rows (call inside the purge's transaction); returns the counts."""
    done = HistoryPurge()
    for source in history_sources():
        days = rule["by_model"].get(source.label, rule["keep_days"])
        cutoff = _start_of(on - timedelta(days=days))
        due = _due(source, cutoff=cutoff)
        held = _held_q(source, holds)
        if held is not None:
            done.held += due.filter(held).count()
            due = due.exclude(held)
        bounds = source.model._base_manager.filter(history_date__lt=cutoff).aggregate(
            lo=Min("history_id"), hi=Max("history_id")
        )
        if bounds["lo"] is None:
            continue
        deleted = 0
        for start in range(bounds["lo"], bounds["hi"] + 1, CHUNK):
            chunk = due.filter(history_id__gte=start, history_id__lt=start + CHUNK)
            deleted += chunk.delete()[0]
        if deleted:
            done.deleted[source.label] = deleted
    return done


def retention_purge_history(*, rules: dict, on: date, actor, policy, holds) -> HistoryPurge:
    """The history rule of `rules` carried out in one transaction with one audit event."""
    from .retention import PURGE_OBJECT_TYPE
    from .services import audit_record

    rule = rules.get("history")
    if rule is None:  # a policy without a history rule keeps history for ever
        return HistoryPurge()
    with transaction.atomic():
        done = purge_history(rule=rule, on=on, holds=holds)
        if done.total:
            audit_record(
                actor=actor, action="audit.purge", object_type=PURGE_OBJECT_TYPE,
                object_id=policy.number, policy_version=policy.label,
                reason=f"Retention: history rows past {policy.label}'s keep period deleted",
                data={"history_deleted": done.total, "history_by_model": done.deleted,
                      "history_held": done.held},
            )  # fmt: skip
    return done
