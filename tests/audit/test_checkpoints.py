"""Checkpoints outside the database catch what the chain alone cannot: a truncated tail."""

import json
import logging

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from audit.checkpoints import checkpoint_path, checkpoints_problem
from audit.models import AuditEvent, ChainHead
from audit.services import audit_record
from audit.tasks import write_checkpoint
from config.settings import CELERY_BEAT_SCHEDULE

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def checkpoint_dir(settings, tmp_path):
    settings.AUDIT_CHECKPOINT_DIR = str(tmp_path / "audit")
    return tmp_path / "audit"


def _append(n: int) -> list[AuditEvent]:
    return [
        audit_record(actor=None, action="test.event", object_type="tests.thing", object_id=i)
        for i in range(n)
    ]


def _truncate_tail(keep: int) -> None:
    """What an attacker with the database does: drop the last events and rewrite the head."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq > %s", [keep])
        cursor.execute(
            "UPDATE audit_chainhead SET seq = %s, hash = (SELECT hash FROM audit_auditevent "
            "WHERE seq = %s) WHERE id = 1",
            [keep, keep],
        )


def _forge(seqs) -> None:
    from django.conf import settings
    from django.utils import timezone

    from audit.chain import event_content, link_hash

    prev = AuditEvent.objects.get(seq=seqs[0] - 1).hash
    for seq in seqs:
        fields = {
            "seq": seq, "occurred_at": timezone.now(), "actor_id": None,
            "actor_username": "system", "action": "test.forged", "object_type": "tests.thing",
            "object_id": str(seq), "reason": "", "policy_version": "", "data": {},
        }  # fmt: skip
        digest = link_hash(settings.AUDIT_HMAC_KEY.encode(), prev, event_content(**fields))
        AuditEvent.objects.create(**fields, prev_hash=prev, hash=digest)
        prev = digest
    ChainHead.objects.filter(pk=1).update(seq=seqs[-1], hash=prev)


def test_the_command_appends_the_head_with_an_hmac(checkpoint_dir):
    events = _append(3)

    call_command("audit_checkpoint")

    (line,) = checkpoint_path().read_text().splitlines()
    row = json.loads(line)
    assert (row["seq"], row["hash"]) == (3, events[-1].hash)
    assert len(row["hmac"]) == 64


def test_checkpointing_twice_without_new_events_writes_one_line():
    _append(2)

    call_command("audit_checkpoint")
    call_command("audit_checkpoint")

    assert len(checkpoint_path().read_text().splitlines()) == 1


def test_beat_writes_a_checkpoint_every_hour():
    _append(1)

    assert write_checkpoint.delay().get() == 1
    entry = CELERY_BEAT_SCHEDULE["audit-checkpoint"]
    assert entry["task"] == "audit.tasks.write_checkpoint"
    assert entry["schedule"].minute == {7} and len(entry["schedule"].hour) == 24


def test_an_intact_chain_passes_its_checkpoints():
    _append(3)
    call_command("audit_checkpoint")
    _append(2)

    call_command("verify_audit")

    assert checkpoints_problem() is None


def test_a_truncated_tail_fails_verification_naming_the_checkpoint():
    _append(5)
    call_command("audit_checkpoint")
    _truncate_tail(keep=3)

    with pytest.raises(CommandError, match=r"shorter than checkpoint #5 .*line 1"):
        call_command("verify_audit")


def test_a_rewritten_tail_fails_verification_naming_the_checkpoint():
    _append(5)
    call_command("audit_checkpoint")
    _truncate_tail(keep=3)
    # The attacker writes new events over the removed ones, hashed and linked as the service
    # would (the key is in the settings they can read): the chain holds, the hash differs.
    _forge(seqs=(4, 5))

    with pytest.raises(CommandError, match=r"event #5 disagrees with checkpoint #5"):
        call_command("verify_audit")


def test_an_altered_checkpoint_file_fails_verification():
    _append(2)
    call_command("audit_checkpoint")
    path = checkpoint_path()
    row = json.loads(path.read_text())
    path.write_text(json.dumps({**row, "seq": 1}) + "\n")

    with pytest.raises(CommandError, match="HMAC does not match"):
        call_command("verify_audit")


def test_a_deleted_head_row_is_recreated_from_the_last_event_loudly(caplog):
    _append(3)
    ChainHead.objects.all().delete()

    with caplog.at_level(logging.ERROR, logger="audit.services"):
        event = audit_record(actor=None, action="test.after", object_type="tests.thing",
                             object_id=9)  # fmt: skip

    assert event.action == "test.after" and event.seq == 5
    note = AuditEvent.objects.get(seq=4)
    assert note.action == "audit.head_recreated"
    assert "head row was missing" in caplog.text
    call_command("verify_audit")
