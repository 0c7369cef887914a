"""Verification's fast JSON path (orjson) never decides alone: where it could write a value
differently from the chain's canonical json.dumps, the definition is asked before a break is
reported, and a real change is still caught."""

import pytest
from django.db import connection

from audit.models import AuditEvent
from audit.selectors import audit_verify_chain
from audit.services import audit_record

pytestmark = pytest.mark.django_db

AWKWARD = {
    "big": 10**20,  # past 64 bits: orjson refuses it both ways
    "text": 'Grüße\u2028\u00e9 "quoted" \\ \x01',
    "float": 1.5,
    "nested": {"b": [1, None, True], "a": {"z": "", "y": 2.25}},
}


def test_values_orjson_cannot_write_still_verify():
    audit_record(actor=None, action="test.event", object_type="tests.thing", object_id=1,
                 data=AWKWARD)  # fmt: skip
    audit_record(actor=None, action="test.event", object_type="tests.thing", object_id=2)

    report = audit_verify_chain()

    assert report.ok and report.checked == 2


def test_a_changed_awkward_value_is_still_caught():
    event = audit_record(actor=None, action="test.event", object_type="tests.thing", object_id=1,
                         data=AWKWARD)  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET data = %s WHERE id = %s",
            ['{"big": 100000000000000000001, "text": "x"}', event.pk],
        )

    report = audit_verify_chain()

    assert not report.ok and report.first_bad_id == event.pk
    assert report.problem == "content does not match its hash"


def test_a_break_found_mid_stream_leaves_the_connection_usable():
    events = [audit_record(actor=None, action="test.event", object_type="tests.thing",
                           object_id=i) for i in range(5)]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET reason = 'x' WHERE id = %s", [events[1].pk])

    first = audit_verify_chain()
    second = audit_verify_chain()

    assert (first.first_bad_id, second.first_bad_id) == (events[1].pk, events[1].pk)
    assert AuditEvent.objects.count() == 5


def test_true_written_as_1_in_the_json_column_is_caught():
    event = audit_record(actor=None, action="test.event", object_type="tests.thing", object_id=1,
                         data={"flag": True})  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET data = %s WHERE id = %s",
                       ['{"flag": 1}', event.pk])  # fmt: skip

    report = audit_verify_chain()

    assert not report.ok and report.first_bad_id == event.pk
