import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections

from audit.models import AuditEvent
from audit.selectors import audit_verify_chain
from audit.services import audit_record


def _append(n: int, actor=None) -> list[AuditEvent]:
    return [
        audit_record(
            actor=actor,
            action="test.event",
            object_type="tests.thing",
            object_id=i,
            reason=f"event {i}",
            policy_version="lifecycle/v1",
            data={"n": i, "amount": "1.50"},
        )  # fmt: skip
        for i in range(n)
    ]


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.mark.django_db
def test_an_intact_chain_verifies_and_the_command_exits_zero(capsys):
    _append(5)

    report = audit_verify_chain()
    call_command("verify_audit")

    assert report.ok and report.checked == 5
    assert "intact: 5 events" in capsys.readouterr().out


@pytest.mark.django_db
def test_each_event_links_to_the_hash_before_it():
    events = _append(3)

    assert events[1].prev_hash == events[0].hash
    assert events[2].prev_hash == events[1].hash


def _tamper_edit(events):
    _sql("UPDATE audit_auditevent SET reason = 'nothing to see' WHERE id = %s", [events[2].pk])
    return events[2].pk


def _tamper_edit_data(events):
    _sql(
        "UPDATE audit_auditevent SET data = %s WHERE id = %s",
        ['{"n": 2, "amount": "1000.00"}', events[2].pk],
    )
    return events[2].pk


def _tamper_delete_middle(events):
    _sql("DELETE FROM audit_auditevent WHERE id = %s", [events[2].pk])
    return events[3].pk


def _tamper_delete_last(events):
    _sql("DELETE FROM audit_auditevent WHERE id = %s", [events[-1].pk])
    return events[-2].pk


def _tamper_insert(events):
    forged = events[2]
    # An attacker copies a real event's link fields into a new row with new content.
    _sql(
        "INSERT INTO audit_auditevent (seq, occurred_at, actor_username, action, object_type,"
        " object_id, reason, policy_version, data, prev_hash, hash)"
        " SELECT 1000, occurred_at, 'mallory', 'contract.terminate', object_type, object_id,"
        " 'forged', policy_version, data, %s, %s FROM audit_auditevent WHERE id = %s",
        [events[-1].hash, "f" * 64, forged.pk],
    )
    return AuditEvent.objects.get(seq=1000).pk


def _tamper_reorder(events):
    a, b = events[1], events[2]
    _sql("UPDATE audit_auditevent SET seq = 999999 WHERE id = %s", [a.pk])
    _sql("UPDATE audit_auditevent SET seq = %s WHERE id = %s", [a.seq, b.pk])
    _sql("UPDATE audit_auditevent SET seq = %s WHERE id = %s", [b.seq, a.pk])
    return b.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    "tamper",
    [
        _tamper_edit,
        _tamper_edit_data,
        _tamper_delete_middle,
        _tamper_delete_last,
        _tamper_insert,
        _tamper_reorder,
    ],
    ids=["edit", "edit-data", "delete", "delete-last", "insert", "reorder"],
)
def test_tampering_is_caught_naming_the_first_bad_event(tamper):
    events = _append(5)

    bad_id = tamper(events)
    report = audit_verify_chain()

    assert not report.ok
    assert report.first_bad_id == bad_id
    with pytest.raises(CommandError, match=f"event id {bad_id}"):
        call_command("verify_audit")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_form_one_unbroken_chain():
    workers, per_worker = 8, 10
    barrier = threading.Barrier(workers)
    errors = []

    def work():
        try:
            barrier.wait()
            _append(per_worker)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    report = audit_verify_chain()
    assert report.ok and report.checked == workers * per_worker
