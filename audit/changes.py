"""Before and after: what one history row changed, with field labels and readable values."""

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Field, Q
from django.utils import formats, timezone

from .history import Source, model_label, object_types, source_for
from .models import AuditEvent
from .personal import MASK, for_user, personal_data_visible
from .sealing import EncryptedJSONField, EncryptedTextField
from .timeline import HISTORY_ACTION_NAMES

# Rows from before transaction ids were recorded are paired by time: a service writes its history
# rows and its event in one transaction, seconds apart at most.
SAME_CHANGE = timedelta(seconds=5)


@dataclass(frozen=True)
class Change:
    label: str
    before: str
    after: str


@dataclass(frozen=True)
class HistoryChange:
    source: Source
    row: object  # the historical row
    previous: object | None
    changes: list[Change]

    @property
    def action(self) -> str:
        return HISTORY_ACTION_NAMES.get(self.row.history_type, self.row.history_type)

    @property
    def ref(self) -> str:
        return f"h-{self.source.label}-{self.row.history_id}"


def readable_date(day: date) -> str:
    return formats.date_format(day, "j M Y")


def readable(field: Field, value, names: dict) -> str:
    """A field's value as a person reads it: names for foreign keys, labels for choices."""
    if value is None or value == "":
        return "—"
    if field.is_relation:
        return names.get((field.name, value), f"#{value}")
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime):
        return formats.date_format(timezone.localtime(value), "j M Y, H:i:s")
    if isinstance(value, date):
        return formats.date_format(value, "j M Y")
    if isinstance(value, Decimal):
        return f"{value:,}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _previous(source: Source, row):
    key = source.live._meta.pk.attname
    earlier = Q(history_date__lt=row.history_date) | Q(
        history_date=row.history_date, history_id__lt=row.history_id
    )
    return (
        source.model.objects.filter(earlier, **{key: getattr(row, key)})
        .order_by("-history_date", "-history_id")
        .first()
    )


def _related_names(fields: list[Field], rows: list) -> dict:
    """Names of every row the foreign keys point to: one query per foreign key field."""
    names = {}
    for field in fields:
        if not field.is_relation:
            continue
        ids = {getattr(row, field.attname) for row in rows if row is not None} - {None}
        for obj in field.related_model._base_manager.filter(pk__in=ids):
            names[(field.name, obj.pk)] = str(obj)
    return names


_UNREAD = object()  # no reader named: values as stored (code, tests), never for a page


def _shown(field: Field, value: str, reader) -> str:
    """A sealed field's readable value, masked for a reader who may not read personal data."""
    if reader is _UNREAD or not isinstance(field, EncryptedTextField) or value in ("", "—"):
        return value
    if isinstance(field, EncryptedJSONField):  # a list of addresses, read as one JSON text
        return value if personal_data_visible(reader) else MASK
    return for_user(value, reader)


def history_change(source: Source, row, *, reader=_UNREAD) -> HistoryChange:
    """What the row changed; a page names its `reader`, so sealed personal fields
    (audit.sealing) read as audit.personal decides for them."""
    previous = _previous(source, row) if row.history_type != "+" else None
    fields = source.tracked_fields()
    if row.history_type == "-":
        changed = fields
    else:
        changed = [
            f for f in fields
            if previous is None or getattr(previous, f.attname) != getattr(row, f.attname)
        ]  # fmt: skip
    names = _related_names(changed, [row, previous])
    changes = []
    for f in changed:
        value = _shown(f, readable(f, getattr(row, f.attname), names), reader)
        if row.history_type == "-":
            before, after = value, ""
        elif previous is None:
            before, after = "", value
        else:
            before = _shown(f, readable(f, getattr(previous, f.attname), names), reader)
            after = value
        changes.append(Change(str(f.verbose_name).capitalize(), before, after))
    return HistoryChange(source, row, previous, changes)


def history_entry(label: str, history_id: int, *, reader=_UNREAD) -> HistoryChange | None:
    source = source_for(label)
    if source is None:
        return None
    row = source.model.objects.select_related("history_user").filter(history_id=history_id).first()
    return None if row is None else history_change(source, row, reader=reader)


def _object_events(label: str, key: str):
    types = object_types(model_label(label))
    return AuditEvent.objects.filter(object_type__in=types, object_id=key)


def event_changes(event: AuditEvent, *, reader=_UNREAD) -> list[HistoryChange]:
    """The history rows its service wrote with this event: the same record's rows written in
    the event's database transaction (audit.transactions). Events from before transactions
    were recorded fall back to time: the record's rows in the moments before the event, after
    the record's previous event."""
    source = source_for(event.object_type)
    if source is None:
        return []
    pk = source.live._meta.pk
    try:
        key = pk.to_python(event.object_id)
    except Exception:  # noqa: BLE001 - an event about something that is not a row
        return []
    rows = source.model.objects.select_related("history_user").filter(**{pk.attname: key})
    if event.transaction_id is None:
        rows = _same_moment(event, rows)
    else:
        rows = rows.filter(history_transaction_id=event.transaction_id)
        # One transaction may record several events about the record (a create, then an
        # activation): each takes the rows written since the one before it, the last one
        # also the rows written after it.
        times = _transaction_events(event.object_type, event.object_id, event.transaction_id)
        before = [at for seq, at in times if seq < event.seq]
        if before:
            rows = rows.filter(history_date__gt=before[-1])
        if any(seq > event.seq for seq, _ in times):
            rows = rows.filter(history_date__lte=event.occurred_at)
    rows = rows.order_by("history_date", "history_id")
    return [history_change(source, row, reader=reader) for row in rows]


def _transaction_events(object_type: str, object_id: str, transaction_id: int) -> list[tuple]:
    """(seq, occurred_at) of the record's events in one transaction, in order: a few rows."""
    events = _object_events(object_type, object_id).filter(transaction_id=transaction_id)
    return list(events.order_by("seq").values_list("seq", "occurred_at"))


def _same_moment(event: AuditEvent, rows):
    """The fallback for rows written before transaction ids: a window of SAME_CHANGE."""
    since = event.occurred_at - SAME_CHANGE
    earlier = (
        _object_events(event.object_type, event.object_id)
        .filter(seq__lt=event.seq, occurred_at__gt=since)
        .order_by("-seq")
        .values_list("occurred_at", flat=True)
        .first()
    )
    rows = rows.filter(history_transaction_id__isnull=True, history_date__lte=event.occurred_at)
    return rows.filter(history_date__gt=earlier or since)


def event_data(event: AuditEvent) -> list[Change]:
    """The event's own data; a `from`/`to` pair reads as one before/after line."""
    data = dict(event.data or {})
    lines = []
    if "from" in data or "to" in data:
        lines.append(Change("Change", str(data.pop("from", "—")), str(data.pop("to", "—"))))
    for key, value in sorted(data.items()):
        text = json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
        lines.append(Change(key.replace("_", " ").capitalize(), "", str(text)))
    return lines


def history_event(change: HistoryChange) -> AuditEvent | None:
    """The event its service recorded with this history row, in the same database transaction
    (for rows from before transaction ids, the record's next event within a few seconds)."""
    row = change.row
    key = str(getattr(row, change.source.live._meta.pk.attname))
    if row.history_transaction_id is None:
        return (
            _object_events(change.source.label, key)
            .filter(
                transaction_id__isnull=True,
                occurred_at__gte=row.history_date,
                occurred_at__lte=row.history_date + SAME_CHANGE,
            )
            .order_by("seq")
            .first()
        )
    # As event_changes shares a transaction's rows out: the first event at or after the row,
    # else the transaction's last event about the record (recorded before the row was saved).
    times = _transaction_events(change.source.label, key, row.history_transaction_id)
    seq = next((seq for seq, at in times if at >= row.history_date), None)
    if seq is None and times:
        seq = times[-1][0]
    return None if seq is None else AuditEvent.objects.filter(seq=seq).first()


def record_name(object_type: str, object_id: str) -> str:
    """The record's name as it reads today ("" when it has none, or is gone)."""
    source = source_for(object_type)
    if source is None or source.name_field is None:
        return ""
    pk = source.live._meta.pk
    try:
        key = pk.to_python(object_id)
    except Exception:  # noqa: BLE001 - an event about something that is not a row
        return ""
    found = source.live._base_manager.filter(pk=key).values_list(source.name_field, flat=True)
    return str(found.first() or "")
