"""Reading usage rows from a CSV file or JSON, and checking every one before anything is stored.

Pure parsing except for one query: which of the named entitlements the sender may see.
"""

import codecs
import csv
import io
import re
from collections.abc import Iterable
from datetime import date

from licensing.access import entitlements_for_user
from licensing.validation import DATE_RANGE_MESSAGE, date_in_range

from .errors import RowError
from .models import UsageFigure

COLUMNS = ("entitlement", "date", "metric", "quantity")
MAX_ROWS = 100_000
MAX_BYTES = 20 * 1024 * 1024
BIGINT_MAX = 2**63 - 1
METRICS = tuple(UsageFigure.Metric.values)

_DIGITS = re.compile(r"\d+")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")

Key = tuple[int, str, date]  # (entitlement id, metric, day)
Item = tuple[int | None, object]  # (line, the raw row as received)


def read_csv(data: bytes) -> tuple[list[Item], list[RowError]]:
    """The data rows of a CSV file with their line numbers (the header is line 1)."""
    if len(data) > MAX_BYTES:
        return [], [RowError(None, "file", f"The file is larger than {MAX_BYTES // 2**20} MB.")]
    if b"\x00" in data:
        lines = sorted({data.count(b"\n", 0, i) + 1 for i in _positions(data, b"\x00")})
        return [], [RowError(line, "file", "The line contains a NUL byte.") for line in lines]
    try:
        text = codecs.decode(data, "utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        return [], [RowError(line, "file", "The file must be UTF-8 text.")]
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return [], [RowError(1, "file", "The file is empty: it needs a header row.")]
    except csv.Error as error:
        return [], [RowError(1, "file", f"Not a readable CSV file: {error}.")]
    names = [name.strip().lower() for name in header]
    errors = [
        RowError(1, column, f"Missing column '{column}'.")
        for column in COLUMNS
        if column not in names
    ]
    errors += [
        RowError(1, name, f"Column '{name}' appears twice.")
        for name in sorted({n for n in names if n in COLUMNS and names.count(n) > 1})
    ]
    if errors:
        return [], errors
    positions = {column: names.index(column) for column in COLUMNS}
    items: list[Item] = []
    line = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            errors.append(RowError(line, "file", f"Not readable as CSV: {error}."))
            break
        if values and any(v.strip() for v in values):
            if len(items) == MAX_ROWS:
                errors.append(RowError(line, "file", f"A report holds at most {MAX_ROWS:,} rows."))
                break
            if len(values) > len(names):
                errors.append(
                    RowError(
                        line,
                        "file",
                        f"The row has {len(values)} values; the header names {len(names)} columns.",
                    )  # fmt: skip
                )
            else:
                row = {c: values[i] for c, i in positions.items() if i < len(values)}
                items.append((line, row))
        line = reader.line_num + 1
    if not items and not errors:
        errors.append(RowError(1, "file", "The file has a header but no rows."))
    return items, errors


def _positions(data: bytes, needle: bytes) -> Iterable[int]:
    start = data.find(needle)
    while start != -1:
        yield start
        start = data.find(needle, start + 1)


def read_json(rows) -> tuple[list[Item], list[RowError]]:
    """JSON rows with their numbers, counting from 1."""
    if not isinstance(rows, list):
        return [], [RowError(None, "rows", "Send the rows as a list of objects.")]
    if not rows:
        return [], [RowError(None, "rows", "Send at least one row.")]
    if len(rows) > MAX_ROWS:
        return [], [RowError(None, "rows", f"A report holds at most {MAX_ROWS:,} rows.")]
    return list(enumerate(rows, start=1)), []


def check_rows(items: list[Item], *, actor, on: date) -> tuple[dict[Key, int], list[RowError]]:
    """Every row checked; the figures by key, a repeated key keeping its last row."""
    errors: list[RowError] = []
    parsed: list[tuple[int | None, Key, int]] = []
    for line, row in items:
        if not isinstance(row, dict):
            errors.append(
                RowError(
                    line,
                    "row",
                    "Each row is an object with entitlement, date, metric and quantity.",
                )  # fmt: skip
            )
            continue
        found = []
        values = {}
        for column in COLUMNS:
            value, problem = _CHECKS[column](row.get(column), on)
            if problem:
                found.append(RowError(line, column, problem))
            values[column] = value
        errors += found
        if not found:
            key = (values["entitlement"], values["metric"], values["date"])
            parsed.append((line, key, values["quantity"]))
    ids = {key[0] for _line, key, _q in parsed}
    visible = set(entitlements_for_user(actor).filter(pk__in=ids).values_list("pk", flat=True))
    figures: dict[Key, int] = {}
    for line, key, quantity in parsed:
        if key[0] not in visible:
            errors.append(
                RowError(line, "entitlement", f"No entitlement with id {key[0]} that you can see.")
            )
            continue
        figures.pop(key, None)  # the last row for a key wins, and sits where it was sent
        figures[key] = quantity
    return figures, errors


def _text(value) -> tuple[str | None, str | None]:
    if value is None:
        return None, "Missing."
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None, "Must be text or a whole number."
    value = str(value)
    if "\x00" in value:
        return None, "Contains a NUL byte."
    value = value.strip()
    if not value:
        return None, "Missing."
    return value, None


def _whole(value, _on) -> tuple[int | None, str | None]:
    if isinstance(value, float):
        return None, "Must be a whole number."
    text, problem = _text(value)
    if problem:
        return None, problem
    if text.startswith("-") and _DIGITS.fullmatch(text[1:]):
        return None, "Cannot be negative."
    if not _DIGITS.fullmatch(text):
        return None, f"'{text[:40]}' is not a whole number."
    number = int(text)
    if number > BIGINT_MAX:
        return None, "Too large."
    return number, None


def _entitlement(value, on) -> tuple[int | None, str | None]:
    number, problem = _whole(value, on)
    if problem and problem != "Missing.":
        return None, f"{problem.rstrip('.')}: give the entitlement's id."
    return number, problem


def _day(value, on: date) -> tuple[date | None, str | None]:
    text, problem = _text(value)
    if problem:
        return None, problem
    if not _ISO_DAY.fullmatch(text):
        return None, f"'{text[:40]}' is not a date: write it as YYYY-MM-DD."
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None, f"'{text}' is not a day of the calendar."
    if not date_in_range(day):
        return None, DATE_RANGE_MESSAGE
    if day > on:
        return None, f"{text} is in the future: usage is reported for days that have passed."
    return day, None


def _metric(value, _on) -> tuple[str | None, str | None]:
    text, problem = _text(value)
    if problem:
        return None, problem
    if text not in METRICS:
        return None, f"Unknown metric '{text[:40]}': use one of {', '.join(METRICS)}."
    return text, None


_CHECKS = {"entitlement": _entitlement, "date": _day, "metric": _metric, "quantity": _whole}
