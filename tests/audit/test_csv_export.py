"""The events' CSV export on PostgreSQL is the database's own COPY; it writes the very bytes the
plain Python path (kept for the SQLite demo) writes from each event's hashed content."""

import csv
import io
import json

import pytest
from rest_framework.test import APIClient

from audit.exports import (
    COPY_CHUNK,
    content_columns,
    csv_lines,
    csv_rows_by_copy,
    csv_rows_in_python,
    export_events,
)
from audit.services import EventSpec, audit_record, audit_record_many

pytestmark = pytest.mark.django_db

AWKWARD = [
    EventSpec("test.event", "tests.thing", "1", 'Said "no", then\nleft', "lifecycle/v1",
              {"note": "Grüße, \u2028 ok", "zero": -0.0, "big": 1e20, "n": 10**20}),
    EventSpec("test.event", "tests.thing", "2", "", "", {}),
    EventSpec("test.event", "tests.thing", "3", "  spaced\r\n", "", {"list": [1, None, True]}),
]  # fmt: skip


def _text(chunks) -> str:
    return "".join(c.decode() if isinstance(c, bytes | memoryview) else c for c in chunks)


def test_copy_writes_the_same_bytes_as_the_python_path_for_awkward_values(manager):
    audit_record_many(actor=None, specs=AWKWARD)
    audit_record(actor=manager, action="contract.activate", object_type="licensing.contract",
                 object_id=42, reason="Signed")  # fmt: skip

    by_copy = _text(csv_rows_by_copy(export_events()))
    in_python = _text(csv_rows_in_python(export_events()))

    assert by_copy == in_python
    rows = list(csv.reader(io.StringIO(by_copy)))
    assert len(rows) == 4 and rows[0][content_columns().index("reason")] == 'Said "no", then\nleft'


def test_the_csv_export_gives_data_as_the_canonical_text_that_was_hashed():
    audit_record_many(actor=None, specs=AWKWARD[:1])

    body = _text(csv_lines(export_events()))

    row = next(csv.DictReader(io.StringIO(body)))
    assert row["data"] == json.dumps(AWKWARD[0].data, sort_keys=True, separators=(",", ":"),
                                     ensure_ascii=False)  # fmt: skip
    assert (row["actor"], row["actor_id"], row["occurred_at"][-6:]) == ("system", "", "+00:00")


def test_an_export_larger_than_a_block_arrives_whole_and_in_order():
    specs = [EventSpec("test.bulk", "tests.thing", str(i), "r" * 50, "", {"i": i})
             for i in range(2_000)]  # fmt: skip
    audit_record_many(actor=None, specs=specs)

    chunks = list(csv_rows_by_copy(export_events()))

    assert len(chunks) > 1 and all(len(chunk) <= COPY_CHUNK + 1024 for chunk in chunks)
    rows = list(csv.reader(io.StringIO(_text(chunks))))
    assert [int(row[0]) for row in rows] == list(range(1, 2_001))
    assert _text(chunks) == _text(csv_rows_in_python(export_events()))


def test_the_apis_csv_export_binds_its_filters_into_copy(auditor, manager):
    audit_record_many(actor=None, specs=AWKWARD)
    audit_record(actor=manager, action="contract.activate", object_type="licensing.contract",
                 object_id="it's 42")  # fmt: skip
    client = APIClient()
    client.force_authenticate(auditor)

    def seqs(**params) -> list[str]:
        response = client.get("/api/v1/audit/events/", {"format": "csv", **params})
        body = _text(response.streaming_content)
        return [row["seq"] for row in csv.DictReader(io.StringIO(body))]

    assert seqs(object_id="it's 42") == ["4"]
    assert seqs(actor="maya") == ["4"]
    assert seqs(seq_from=2, seq_to=3) == ["2", "3"]
    assert seqs(action="test.event", object_id="3") == ["3"]
