"""Reading usage rows from a CSV file or JSON, and checking every field of every row.

Pure parsing, no database: a CSV file is read as a stream (its bytes once, then its rows once),
so a long file costs no more memory than a short one.
"""

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from datetime import date
from typing import BinaryIO

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
Row = tuple[int | None, Key, int]  # (line, key, quantity): a row whose fields are good


CHUNK = 64 * 1024


def file_problems(file: BinaryIO) -> list[RowError]:
    """The first pass over a CSV file's bytes, a chunk at a time: its size, NUL bytes (every
    line holding one) and UTF-8 (the first line that is not). Leaves the file at its start."""
    file.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    size, newlines, nul_lines, bad_line = 0, 0, set(), None
    while chunk := file.read(CHUNK):
        size += len(chunk)
        if size > MAX_BYTES:
            file.seek(0)
            return [RowError(None, "file", f"The file is larger than {MAX_BYTES // 2**20} MB.")]
        if b"\x00" in chunk:
            nul_lines |= {
                newlines + chunk.count(b"\n", 0, i) + 1 for i in _positions(chunk, b"\x00")
            }
        if bad_line is None:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                # error.object is the decoder's held-back bytes (never a newline) + this chunk.
                bad_line = newlines + error.object.count(b"\n", 0, error.start) + 1
        newlines += chunk.count(b"\n")
    if bad_line is None:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            bad_line = newlines + 1
    file.seek(0)
    if nul_lines:
        return [
            RowError(line, "file", "The line contains a NUL byte.") for line in sorted(nul_lines)
        ]
    if bad_line is not None:
        return [RowError(bad_line, "file", "The file must be UTF-8 text.")]
    return []


def read_csv(file: BinaryIO, errors: list[RowError]) -> Iterator[Item]:
    """The data rows of a CSV file with their line numbers (the header is line 1), read as a
    stream: run `file_problems` first. Problems with the file itself go to `errors`."""
    text = io.TextIOWrapper(file, encoding="utf-8-sig", newline="")
    try:
        yield from _csv_items(csv.reader(text), errors)
    finally:
        text.detach()  # the caller's file stays open


def _csv_items(reader, errors: list[RowError]) -> Iterator[Item]:
    try:
        header = next(reader)
    except StopIteration:
        errors.append(RowError(1, "file", "The file is empty: it needs a header row."))
        return
    except csv.Error as error:
        errors.append(RowError(1, "file", f"Not a readable CSV file: {error}."))
        return
    names = [name.strip().lower() for name in header]
    found = [
        RowError(1, column, f"Missing column '{column}'.")
        for column in COLUMNS
        if column not in names
    ]
    found += [
        RowError(1, name, f"Column '{name}' appears twice.")
        for name in sorted({n for n in names if n in COLUMNS and names.count(n) > 1})
    ]
    if found:
        errors += found
        return
    positions = {column: names.index(column) for column in COLUMNS}
    count, known = 0, len(errors)
    line = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            errors.append(RowError(line, "file", f"Not readable as CSV: {error}."))
            return
        if values and any(v.strip() for v in values):
            if count == MAX_ROWS:
                errors.append(RowError(line, "file", f"A report holds at most {MAX_ROWS:,} rows."))
                return
            if len(values) > len(names):
                errors.append(
                    RowError(
                        line,
                        "file",
                        f"The row has {len(values)} values; the header names {len(names)} columns.",
                    )  # fmt: skip
                )
            else:
                count += 1
                yield line, {c: values[i] for c, i in positions.items() if i < len(values)}
        line = reader.line_num + 1
    if not count and len(errors) == known:
        errors.append(RowError(1, "file", "The file has a header but no rows."))


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


def checked_rows(items: Iterable[Item], errors: list[RowError], *, on: date) -> Iterator[Row]:
    """Each row whose fields are all good, as (line, key, quantity); every problem with a
    field goes to `errors`. Whether the sender may see the entitlement is asked of the whole
    set afterwards (see services.usage)."""
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
        found = False
        values = {}
        for column in COLUMNS:
            value, problem = _CHECKS[column](row.get(column), on)
            if problem:
                errors.append(RowError(line, column, problem))
                found = True
            values[column] = value
        if not found:
            yield (
                line,
                (values["entitlement"], values["metric"], values["date"]),
                values["quantity"],
            )


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
