"""The auditor's timeline: every history row of every app and every chain event, as one list.

Each source (the event chain, then one history table per model) becomes one SELECT of the same
columns; they are combined with UNION ALL and ordered by time, so PostgreSQL merges index scans
of each table's time column and a page reads about as many rows as it shows. Filters are applied
inside each SELECT, and a source a filter cannot match (history rows carry no policy version) is
left out. Names come afterwards in a few queries per page (users, then one per kind of object,
then contracts and customers), never one per row.
"""

import functools
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    BigIntegerField,
    F,
    IntegerField,
    Q,
    QuerySet,
    TextField,
    Value,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from .history import (
    Source,
    history_sources,
    is_alias,
    live_model,
    name_field,
    object_types,
    path_to,
    scope_model,
    source_for,
)
from .models import AuditEvent
from .registry import event_name

EVENT_KIND = 0
# The history tables' change types, as the timeline's action filter names them.
HISTORY_ACTIONS = {"created": "+", "changed": "~", "deleted": "-"}
HISTORY_ACTION_NAMES = {code: name for name, code in HISTORY_ACTIONS.items()}
SCOPES = ("customer", "contract")
COLUMNS = ("t_at", "t_kind", "t_key", "t_actor", "t_action", "t_type", "t_oid", "t_name",
           "t_reason", "t_policy")  # fmt: skip


@dataclass(frozen=True)
class TimelineFilter:
    """What the auditor asked for; the period runs from `period_start` to before `period_end`."""

    period_start: date | None = None
    period_end: date | None = None
    actor: int | None = None
    customer: int | None = None
    contract: int | None = None
    object_type: str = ""
    object_id: str = ""
    policy_version: str = ""
    action: str = ""

    def as_dict(self) -> dict:
        """The filter as export events and bundle manifests record it (only what is set)."""
        found = {key: value for key, value in asdict(self).items() if value not in (None, "")}
        return {k: v.isoformat() if isinstance(v, date) else v for k, v in found.items()}

    @classmethod
    def from_dict(cls, data: dict) -> "TimelineFilter":
        values = dict(data)
        for key in ("period_start", "period_end"):
            if values.get(key):
                values[key] = date.fromisoformat(values[key])
        return cls(**values)


@dataclass
class Entry:
    """One row of the timeline, with names filled in by `timeline_name`."""

    at: datetime
    kind: int
    key: int  # the event's seq, or the history row's history_id
    actor_id: int | None
    action: str
    object_type: str
    object_id: str
    name: str
    reason: str
    policy_version: str
    actor: str = ""
    actor_username: str = ""
    object_label: str = ""
    contract_id: int | None = None
    customer_id: int | None = None
    contract: str = ""
    customer: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def is_event(self) -> bool:
        return self.kind == EVENT_KIND

    @property
    def ref(self) -> str:
        """The entry's address in the workspace: e<seq> or h<kind>-<history_id>."""
        if self.is_event:
            return f"e{self.key}"
        return f"h-{self.object_type}-{self.key}"

    @property
    def policy_label(self) -> str:
        return policy_label(self.policy_version)

    @property
    def action_label(self) -> str:
        if self.is_event:
            return action_label(self.action)
        return {"+": "Created", "~": "Changed", "-": "Deleted"}.get(self.action, self.action)


# Past participles the generic rule (add -d or -ed) gets wrong.
_IRREGULAR = {
    "hold": "held", "withdraw": "withdrawn", "set": "set", "send": "sent", "run": "run",
    "begin": "begun", "submit": "submitted", "resubmit": "resubmitted", "drop": "dropped",
    "admin": "admin", "sign": "signed", "reopen": "reopened", "open": "opened",
}  # fmt: skip


def _past(verb: str) -> str:
    if verb in _IRREGULAR:
        return _IRREGULAR[verb]
    if verb.endswith("e"):
        return verb + "d"
    if verb.endswith("y") and verb[-2:-1] not in "aeiou":
        return verb[:-1] + "ied"
    return verb + "ed"


# The verbs actions are named with, so a many-word action knows which word to put in the past:
# `milestone_add` is "Milestone added", `approve_step` "Approved step".
_VERBS = frozenset((
    "accept", "activate", "add", "adjust", "apply", "approve", "assign", "calculate", "cancel",
    "change", "classify", "clear", "close", "complete", "confirm", "create", "decline", "defer",
    "delete", "deprovision", "detect", "dismiss", "draft", "drop", "escalate", "execute",
    "export", "extend", "fail", "grant", "hold", "issue", "notify", "open", "publish", "purge",
    "reactivate", "record", "reject", "release", "remove", "renew", "reopen", "request",
    "restore", "resubmit", "resume", "reverse", "review", "revoke", "sign", "submit", "suspend",
    "terminate", "update", "verify", "waive", "withdraw",
))  # fmt: skip


def action_label(code: str) -> str:
    """What an event did, in words: a name its app registered (audit.registry), else its verb
    in the past (the Record column names the subject): `breach_case.escalate` reads as
    "Escalated", `credit.apply_to_invoice` as "Applied to invoice"."""
    named = event_name(code)
    if named:
        return named
    words = code.rpartition(".")[2].split("_")
    if len(words) > 1 and any(w.endswith("ed") or w == "done" for w in words):
        pass  # already in the past: `execute_requested`
    elif words[0] in _VERBS or len(words) == 1:
        words[0] = _past(words[0])
    elif words[-1] in _VERBS:
        words[-1] = _past(words[-1])
    return " ".join(words).capitalize()


def action_choice_label(code: str) -> str:
    """An action as the filter offers it, where the subject tells apart the same verb's uses:
    "Breach case: escalated"."""
    subject = code.rpartition(".")[0].replace("_", " ").replace(".", " ").capitalize()
    label = action_label(code)
    return f"{subject}: {label[:1].lower()}{label[1:]}" if subject else label


def policy_label(code: str) -> str:
    """A policy version's name: `breach/v1` reads as "Breach policy v1"; a code of another
    shape is shown as it is."""
    kind, slash, version = code.partition("/")
    if not slash or not version.startswith("v") or not version[1:].isdigit() or not kind:
        return code
    return f"{kind.replace('_', ' ').capitalize()} policy {version}"


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _text(value) -> Cast:
    return Cast(value, TextField())


def _none(output) -> Cast:
    return Cast(Value(None), output)


def _period(qs: QuerySet, column: str, flt: TimelineFilter) -> QuerySet:
    if flt.period_start:
        qs = qs.filter(**{f"{column}__gte": _start_of(flt.period_start)})
    if flt.period_end:
        qs = qs.filter(**{f"{column}__lt": _start_of(flt.period_end)})
    return qs


def _scope_labels(scope: str) -> list[tuple[str, type, str]]:
    """(object_type, live model, path to the scope's id) for every model an event may name."""
    found = []
    for source in history_sources():
        path = source.paths.get(scope)
        if path is not None:
            found += [(label, source.live, path) for label in object_types(source.label)]
    return found


def _events_in_scope(scope: str, value: int) -> Q | None:
    """Events about any object that leads to this customer or contract. The objects' ids are
    read first, in one query, so the events are found through their (object_type, object_id)
    index rather than by testing a subquery against every event."""
    parts, branches = [], []
    for label, live, path in _scope_labels(scope):
        if path == "pk":
            parts.append(Q(object_type=label, object_id=str(value)))
            continue
        ids = live.objects.filter(**{path: value}).order_by()
        branches.append(ids.annotate(_l=Value(label, output_field=TextField()), _s=_text("pk"))
                        .values_list("_l", "_s"))  # fmt: skip
    if branches:
        found: dict[str, list[str]] = defaultdict(list)
        first, *rest = branches
        for label, key in first.union(*rest, all=True) if rest else first:
            found[label].append(key)
        parts += [Q(object_type=label, object_id__in=keys) for label, keys in found.items()]
    if not parts:
        return None
    q = parts[0]
    for part in parts[1:]:
        q |= part
    return q


def timeline_events(flt: TimelineFilter) -> QuerySet[AuditEvent] | None:
    """The chain events the filter selects; None when it selects history rows only."""
    if flt.action in HISTORY_ACTIONS:
        return None
    qs = _period(AuditEvent.objects.all(), "occurred_at", flt)
    if flt.actor:
        qs = qs.filter(actor_id=flt.actor)
    for scope in SCOPES:
        value = getattr(flt, scope)
        if value:
            q = _events_in_scope(scope, value)
            if q is None:
                return None
            qs = qs.filter(q)
    if flt.object_type:
        qs = qs.filter(object_type__in=object_types(flt.object_type))
    if flt.object_id:
        qs = qs.filter(object_id=flt.object_id)
    if flt.policy_version:
        qs = qs.filter(policy_version=flt.policy_version)
    if flt.action:
        qs = qs.filter(action=flt.action)
    return qs


def events_branch(flt: TimelineFilter) -> QuerySet | None:
    qs = timeline_events(flt)
    if qs is None:
        return None
    name = Coalesce(KT("data__number"), KT("data__name"), Value(""), output_field=TextField())
    return qs.annotate(
        t_at=F("occurred_at"), t_kind=Value(EVENT_KIND, output_field=IntegerField()),
        t_key=Cast("seq", BigIntegerField()), t_actor=Cast("actor_id", BigIntegerField()),
        t_action=_text("action"), t_type=_text("object_type"), t_oid=_text("object_id"),
        t_name=_text(name), t_reason=_text("reason"), t_policy=_text("policy_version"),
    ).values(*COLUMNS)  # fmt: skip


def timeline_history(source: Source, flt: TimelineFilter) -> QuerySet | None:
    """The source's history rows the filter selects; None when it can select none of them."""
    if flt.policy_version or (flt.object_type and flt.object_type != source.label):
        return None
    if flt.action and flt.action not in HISTORY_ACTIONS:
        return None
    qs = _period(source.model.objects.all(), "history_date", flt)
    if flt.action:
        qs = qs.filter(history_type=HISTORY_ACTIONS[flt.action])
    if flt.actor:
        qs = qs.filter(history_user_id=flt.actor)
    for scope in SCOPES:
        value = getattr(flt, scope)
        if value:
            lookup = source.lookup(scope)
            if lookup is None:
                return None
            qs = qs.filter(**{lookup: value})
    if flt.object_id:
        pk = source.live._meta.pk
        try:
            qs = qs.filter(**{pk.attname: pk.to_python(flt.object_id)})
        except Exception:  # noqa: BLE001 - not an id of this model at all
            return None
    return qs


def history_branch(kind: int, source: Source, flt: TimelineFilter) -> QuerySet | None:
    qs = timeline_history(source, flt)
    if qs is None:
        return None
    name = _text(source.name_field) if source.name_field else _text(Value(""))
    return qs.annotate(
        t_at=F("history_date"), t_kind=Value(kind, output_field=IntegerField()),
        t_key=Cast("history_id", BigIntegerField()),
        t_actor=Cast("history_user_id", BigIntegerField()), t_action=_text("history_type"),
        t_type=_text(Value(source.label)), t_oid=_text(source.live._meta.pk.attname),
        t_name=name, t_reason=Coalesce(_text("history_change_reason"), _text(Value(""))),
        t_policy=_text(Value("")),
    ).values(*COLUMNS)  # fmt: skip


NEWEST_FIRST = ("-t_at", "-t_kind", "-t_key")


def timeline_rows(flt: TimelineFilter, *, top: int | None = None) -> QuerySet | None:
    """Every matching entry as one UNION ALL, newest first; None when nothing can match.

    With `top`, each branch is cut to its own newest `top` rows first (where the database
    allows ordered branches: PostgreSQL does, SQLite not), which holds every row of the
    timeline's first `top`. PostgreSQL merges unordered branches by their time indexes only
    when no filter narrows them; with a filter (who, what action) it would read and sort every
    matching row of a million, where a cut branch reads its filter's index from the newest.
    """
    branches = [events_branch(flt)]
    branches += [history_branch(i, s, flt) for i, s in enumerate(history_sources(), start=1)]
    # No branch keeps its model's ordering: ordered subqueries cannot be merged, so PostgreSQL
    # would sort every row instead of reading each table's time index from the newest.
    branches = [b.order_by() for b in branches if b is not None]
    if not branches:
        return None
    first, *rest = branches
    if not rest:
        return first.order_by(*NEWEST_FIRST)
    if top is not None and connection.features.supports_slicing_ordering_in_compound:
        first, *rest = (b.order_by(*NEWEST_FIRST)[:top] for b in branches)
    return first.union(*rest, all=True).order_by(*NEWEST_FIRST)


def _entry(row: dict) -> Entry:
    return Entry(
        at=row["t_at"], kind=row["t_kind"], key=row["t_key"], actor_id=row["t_actor"],
        action=row["t_action"], object_type=row["t_type"], object_id=row["t_oid"],
        name=row["t_name"] or "", reason=row["t_reason"] or "", policy_version=row["t_policy"],
    )  # fmt: skip


@dataclass
class TimelinePage:
    entries: list[Entry]
    number: int
    per_page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.per_page + 1 if self.entries else 0

    @property
    def end_index(self) -> int:
        return self.start_index + len(self.entries) - 1 if self.entries else 0


def timeline_page(flt: TimelineFilter, *, number: int = 1, per_page: int = 50) -> TimelinePage:
    """One page, without counting the whole timeline (a million rows would cost more than the
    page): one row beyond the page tells whether there is a next one."""
    number = max(1, number)
    start = (number - 1) * per_page
    rows = timeline_rows(flt, top=start + per_page + 1)
    if rows is None:
        return TimelinePage([], number, per_page, False)
    found = [_entry(row) for row in rows[start : start + per_page + 1]]
    entries = found[:per_page]
    timeline_name(entries)
    return TimelinePage(entries, number, per_page, len(found) > per_page)


def timeline_count_at_most(flt: TimelineFilter, limit: int) -> int:
    """How many entries match, counting no further than `limit` (bounded, whatever the size)."""
    rows = timeline_rows(flt)
    if rows is None:
        return 0
    sql, params = rows.order_by()[:limit].query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({sql}) AS bounded", params)
        return cursor.fetchone()[0]


def timeline_iter(flt: TimelineFilter, *, chunk_size: int = 2000) -> Iterator[Entry]:
    """Every matching entry, oldest first, named chunk by chunk: memory stays flat."""
    rows = timeline_rows(flt)
    if rows is None:
        return
    rows = rows.order_by("t_at", "t_kind", "t_key")
    chunk: list[Entry] = []
    for row in rows.iterator(chunk_size=chunk_size):
        chunk.append(_entry(row))
        if len(chunk) == chunk_size:
            timeline_name(chunk)
            yield from chunk
            chunk = []
    timeline_name(chunk)
    yield from chunk


# Names, in a few queries per batch of entries.


@functools.cache
def object_label(object_type: str) -> str:
    model = live_model(object_type)
    if model is not None:
        return str(model._meta.verbose_name).capitalize()
    # An event about something that is not one row (credits.policy, audit.chain): its kind.
    return object_type.rpartition(".")[2].replace("_", " ").capitalize()


def _names(model, ids: Iterable) -> dict:
    ids = {i for i in ids if i is not None}
    if model is None or not ids:
        return {}
    field_name = name_field(model)
    if field_name is None:
        return {}
    return dict(model.objects.filter(pk__in=ids).values_list("pk", field_name))


def timeline_name(entries: list[Entry]) -> None:
    """Fill in actors, objects' names, contracts and customers for a batch of entries."""
    if not entries:
        return
    users = get_user_model().objects.filter(pk__in={e.actor_id for e in entries if e.actor_id})
    people = {u.pk: (u.get_full_name() or u.get_username(), u.get_username()) for u in users}
    by_type: dict[str, set] = defaultdict(set)
    for e in entries:
        by_type[e.object_type].add(e.object_id)
    # Per kind of object: its live name (events carry none of their own) and scope ids.
    facts: dict[tuple[str, str], tuple] = {}
    for label, ids in by_type.items():
        source = source_for(label)
        if source is None:
            continue
        pk = source.live._meta.pk
        keys = set()
        for value in ids:
            try:
                keys.add(pk.to_python(value))
            except Exception:  # noqa: BLE001 - an event about something that is not a row
                continue
        columns = ["pk", *(source.paths.get(s) or "pk" for s in SCOPES)]
        if source.name_field:
            columns.append(source.name_field)
        for row in source.live.objects.filter(pk__in=keys).values_list(*columns):
            facts[(label, str(row[0]))] = row
    contracts: set = set()
    customers: set = set()
    for e in entries:
        e.actor, e.actor_username = people.get(e.actor_id, ("the system", "system"))
        if not e.actor_id and not e.is_event:
            e.actor = "the system"
        e.object_label = object_label(e.object_type)
        if e.is_event and e.object_type == "audit.exportjob":
            e.object_label = "Export"
        row = facts.get((e.object_type, e.object_id))
        source = source_for(e.object_type)
        if row is None or source is None:
            continue
        for position, scope in enumerate(SCOPES, start=1):
            if scope in source.paths:
                setattr(e, f"{scope}_id", row[position])
        if not e.name and source.name_field:
            e.name = str(row[-1] or "")
        contracts.add(e.contract_id)
        customers.add(e.customer_id)
    contract_names, contract_customers = _contracts(contracts)
    for e in entries:
        # A record that reaches its contract but not its customer (an option of a breach
        # case) has the contract's customer.
        if e.customer_id is None and e.contract_id is not None:
            e.customer_id = contract_customers.get(e.contract_id)
            customers.add(e.customer_id)
    customer_names = _names(scope_model("customer"), customers)
    for e in entries:
        e.contract = str(contract_names.get(e.contract_id, ""))
        e.customer = str(customer_names.get(e.customer_id, ""))


def _contracts(ids: set) -> tuple[dict, dict]:
    """Contracts' names and their customers' ids, in one query."""
    model, ids = scope_model("contract"), {i for i in ids if i is not None}
    if model is None or not ids:
        return {}, {}
    customer = scope_model("customer")
    path = path_to(model, customer) if customer is not None else None
    columns = ["pk", name_field(model) or "pk", path or "pk"]
    rows = list(model.objects.filter(pk__in=ids).values_list(*columns))
    names = {pk: name for pk, name, _ in rows} if name_field(model) else {}
    return names, ({pk: owner for pk, _, owner in rows} if path and path != "pk" else {})


# The filter form's choices, read without walking a million rows.


def distinct_event_values(column: str) -> list[str]:
    """Distinct values of an indexed event column by a loose index scan (one index probe per
    value), so the choices cost as many probes as there are values, not a scan of every event."""
    if column not in ("action", "object_type", "policy_version"):
        raise ValueError(column)
    table = connection.ops.quote_name(AuditEvent._meta.db_table)
    col = connection.ops.quote_name(column)
    sql = (
        f"WITH RECURSIVE t(v) AS (SELECT MIN({col}) FROM {table} UNION ALL "
        f"SELECT (SELECT MIN({col}) FROM {table} WHERE {col} > t.v) FROM t WHERE t.v IS NOT NULL) "
        f"SELECT v FROM t WHERE v IS NOT NULL AND v <> ''"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def object_type_choices() -> list[tuple[str, str]]:
    events = {t for t in distinct_event_values("object_type") if not is_alias(t)}
    labels = {s.label for s in history_sources()} | events
    return sorted(((label, object_label(label)) for label in labels), key=lambda c: c[1])


FILTER_LABELS = {
    "period_start": "From", "period_end": "To (inclusive)", "actor": "Who",
    "customer": "Customer", "contract": "Contract", "object_type": "Kind of record",
    "object_id": "Record id", "policy_version": "Policy version", "action": "Action",
}  # fmt: skip


def describe_filter(data: dict) -> list[tuple[str, str]]:
    """A stored filter as a person reads it: names for people, customers and contracts."""
    from .changes import readable_date

    described = []
    for key, label in FILTER_LABELS.items():
        value = data.get(key)
        if value in (None, ""):
            continue
        if key == "actor":
            user = get_user_model().objects.filter(pk=value).first()
            text = (user.get_full_name() or user.get_username()) if user else f"user {value}"
        elif key in SCOPES:
            text = str(_names(scope_model(key), [value]).get(value, value))
        elif key == "period_start":
            text = readable_date(date.fromisoformat(value))
        elif key == "period_end":
            text = readable_date(date.fromisoformat(value) - timedelta(days=1))
        elif key == "object_type":
            text = object_label(value)
        elif key == "action":
            text = value.capitalize() if value in HISTORY_ACTIONS else action_label(value)
        else:
            text = str(value)
        described.append((label, text))
    return described
