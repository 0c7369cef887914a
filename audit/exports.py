"""Streamed exports of events with the exact content their hashes cover."""

import csv
import json
from collections.abc import Iterator
from datetime import date, datetime, time

from django.db import connection
from django.db.models import F, Func, QuerySet, TextField, Value
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone

from .chain import canonical
from .models import AuditEvent
from .tree import CONTENT_FIELDS, content_of


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def export_events(
    *,
    period_start: date | None = None,
    period_end: date | None = None,
    actor: str = "",
    object_type: str = "",
    object_id: str = "",
    action: str = "",
    policy_version: str = "",
    seq_from: int | None = None,
    seq_to: int | None = None,
) -> QuerySet[AuditEvent]:
    """Events in seq order; the period runs from `period_start` to before `period_end` (dates in
    the business time zone), the seq range is inclusive at both ends."""
    qs = AuditEvent.objects.order_by("seq")
    if period_start:
        qs = qs.filter(occurred_at__gte=_start_of(period_start))
    if period_end:
        qs = qs.filter(occurred_at__lt=_start_of(period_end))
    exact = {
        "actor_username": actor,
        "object_type": object_type,
        "object_id": object_id,
        "action": action,
        "policy_version": policy_version,
    }
    qs = qs.filter(**{name: value for name, value in exact.items() if value})
    if seq_from is not None:
        qs = qs.filter(seq__gte=seq_from)
    if seq_to is not None:
        qs = qs.filter(seq__lte=seq_to)
    return qs


def _contents(qs: QuerySet[AuditEvent], chunk_size: int) -> Iterator[dict]:
    for row in qs.values(*CONTENT_FIELDS).iterator(chunk_size=chunk_size):
        yield content_of(row)


def jsonl_lines(qs: QuerySet[AuditEvent], *, chunk_size: int = 2000) -> Iterator[str]:
    """One line per event: {"seq": N, "content": <the canonical bytes that were hashed>}.

    A redacted event's line says `"redacted": true` and carries the `leaf_hash` (hex) it kept:
    its content, blanked, no longer hashes to its leaf, so a verifier takes that leaf instead.
    """
    for row in qs.values(*LINE_FIELDS).iterator(chunk_size=chunk_size):
        yield event_line(row)


# The columns `event_line` reads: the hashed content, and what a redacted event kept.
LINE_FIELDS = (*CONTENT_FIELDS, "leaf_hash", "redaction_mac")


def event_line(row: dict) -> str:
    """One event as a JSON line, from a dict of its LINE_FIELDS."""
    content = content_of(row)
    line = f'{{"seq":{content["seq"]},"content":{canonical(content).decode()}'
    if row["redaction_mac"]:
        line += f',"redacted":true,"leaf_hash":"{bytes(row["leaf_hash"]).hex()}"'
    return line + "}\n"


class _Echo:
    def write(self, value: str) -> str:
        return value


def content_columns() -> list[str]:
    """The content's keys in the chain's own order, read off an empty event."""
    blank = dict.fromkeys(CONTENT_FIELDS, "") | {
        "occurred_at": datetime.min, "data": {}, "canonical_data": None,
    }  # fmt: skip
    return list(content_of(blank))


def _cell(value) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "" if value is None else str(value)


def csv_lines(qs: QuerySet[AuditEvent], *, chunk_size: int = 2000) -> Iterator[str | bytes]:
    """A header, then one row per event with one column per content field (`data` as its
    canonical JSON), lines ending in LF.

    On PostgreSQL the rows are PostgreSQL's own `COPY (SELECT ...) TO STDOUT WITH CSV`, passed
    on in blocks of about 64 KiB: some twenty times the rate of building each row in Python.
    Elsewhere (the SQLite demo) csv.writer writes the same bytes from each event's content.
    """
    yield _writer().writerow(content_columns())
    if connection.vendor == "postgresql":
        yield from csv_rows_by_copy(qs)
    else:
        yield from csv_rows_in_python(qs, chunk_size=chunk_size)


def _writer():
    return csv.writer(_Echo(), lineterminator="\n")


def csv_rows_in_python(qs: QuerySet[AuditEvent], *, chunk_size: int = 2000) -> Iterator[str]:
    """The CSV rows (no header) built from each event's content with csv.writer."""
    writer, columns = _writer(), content_columns()
    for content in _contents(qs, chunk_size):
        yield writer.writerow([_cell(content[column]) for column in columns])


# Each content column as SQL giving the text csv.writer writes for it in the Python path: the
# time as `isoformat(timespec="microseconds")` in UTC, `data` as the canonical text that was
# hashed, and "" as NULL (COPY quotes an empty string, csv.writer does not; both leave NULL
# bare). A row written by raw SQL without its canonical text exports its JSON column's text.
_UTC_ISO = """to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"')"""
_NUMBERS = {"seq", "actor_id"}


def _copy_column(column: str):
    if column == "occurred_at":
        return Func(F("occurred_at"), template=_UTC_ISO, output_field=TextField())
    if column == "data":
        return Coalesce("canonical_data", Cast("data", TextField()))
    if column in _NUMBERS:
        return F(column)
    name = "actor_username" if column == "actor" else column
    return NullIf(F(name), Value(""), output_field=TextField())


def csv_rows_by_copy(qs: QuerySet[AuditEvent]) -> Iterator[bytes]:
    """The same CSV rows (no header) from PostgreSQL's COPY, in blocks of about COPY_CHUNK."""
    names = {f"csv_{column}": _copy_column(column) for column in content_columns()}
    sql, params = qs.annotate(**names).values_list(*names).query.sql_with_params()
    statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
    # Django's cursor wraps psycopg's, which binds the filter's values into the COPY statement.
    with connection.cursor() as cursor, cursor.cursor.copy(statement, params) as copy:
        blocks, size = [], 0
        for block in copy:  # one block per row
            blocks.append(block)
            size += len(block)
            if size >= COPY_CHUNK:
                yield b"".join(blocks)
                blocks, size = [], 0
        if blocks:
            yield b"".join(blocks)


COPY_CHUNK = 64 * 1024
