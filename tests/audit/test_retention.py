"""Retention: the purge redacts what is due, the log stays verifiable, holds stop it."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from rest_framework.authtoken.models import Token

from audit import tree
from audit.models import AuditEvent, ChainVerification, RetentionPolicyVersion
from audit.retention import (
    RetentionError,
    parse_retention_rules,
    retention_policy_draft,
    retention_policy_in_force,
    retention_policy_publish,
    retention_purge,
)
from audit.selectors import audit_verify_chain
from audit.services import EventSpec, audit_record_many
from licensing.deprovisioning.services import hold_place
from tests.factories import ContractFactory, UserFactory
from tests.support import Snapshot

from .verifier import readme_verifier

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/audit/events/"
KEEP = 2557  # retention/v2 (in force) keeps events and history rows this many days


def _append(n: int, *, object_type: str = "tests.thing", data=None) -> None:
    specs = [
        EventSpec("test.event", object_type, str(i), f"Called Jane Doe on +44 20 7946 0{i:03d}",
                  "lifecycle/v1", data or {"n": i, "contact": "jane@example.com"})
        for i in range(n)
    ]  # fmt: skip
    audit_record_many(actor=None, specs=specs)


def _after_keep(today):
    return today + timedelta(days=KEEP + 1)


def _line(client, seq: int) -> dict:
    body = b"".join(client.get(EVENTS, {"seq_from": seq, "seq_to": seq}).streaming_content)
    return json.loads(body)


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_purge_redacts_personal_content_and_keeps_the_hashes(today):
    _append(5)
    before = {e.seq: (e.hash, e.prev_hash) for e in AuditEvent.objects.all()}
    leaves = tree.read_nodes([(0, i) for i in range(5)])

    report = retention_purge(on=_after_keep(today))

    assert report.redacted == 5
    for event in AuditEvent.objects.filter(seq__lte=5):
        assert (event.reason, event.data, event.actor_username) == ("", {}, "")
        assert event.redacted_at is not None and event.redaction_mac
        assert (event.hash, event.prev_hash) == before[event.seq]
        assert bytes(event.leaf_hash) == leaves[(0, event.seq - 1)]


def test_the_purge_is_itself_an_audit_event_naming_what_it_redacted(today):
    _append(4)

    report = retention_purge(on=_after_keep(today))

    purge = AuditEvent.objects.get(action="audit.purge")
    assert report.purge_events == [purge.seq]
    assert purge.policy_version == "retention/v2"
    assert purge.data == {"redacted": 4, "ranges": [[1, 4]], "held": 0}
    assert set(AuditEvent.objects.filter(seq__lte=4).values_list("redacted_by", flat=True)) == {
        purge.seq
    }


def test_verify_audit_passes_over_redacted_events(today):
    _append(6)
    retention_purge(on=_after_keep(today))
    _append(2)

    report = audit_verify_chain()
    call_command("verify_audit")  # raises CommandError on a break

    assert report.ok and report.checked == 9


def test_purge_keeps_inclusion_and_consistency_proofs_valid_with_the_readme_verifier(
    api, auditor, today
):
    verifier = readme_verifier()
    _append(9)
    client = api(auditor)
    earlier = client.get("/api/v1/audit/tree-head/").json()
    retention_purge(on=_after_keep(today))
    _append(3)
    head = client.get("/api/v1/audit/tree-head/").json()

    for seq in range(1, 14):
        line = _line(client, seq)
        proof = client.get(
            "/api/v1/audit/proofs/inclusion/", {"seq": seq, "tree_size": head["tree_size"]}
        ).json()
        assert line.get("redacted", False) is (seq <= 9)
        assert verifier["check_inclusion"](
            line["content"], proof, head, verifier["event_leaf"](line)
        )
    consistency = client.get(
        "/api/v1/audit/proofs/consistency/", {"first": earlier["tree_size"], "second": 13}
    ).json()
    assert verifier["check_consistency"](earlier, head, consistency)
    assert tree.verify_tree_head(tree.tree_head_latest()).ok


def test_a_redacted_events_kept_leaf_is_not_its_blanked_contents_hash(api, auditor, today):
    verifier = readme_verifier()
    _append(3)
    retention_purge(on=_after_keep(today))
    client = api(auditor)
    head = client.get("/api/v1/audit/tree-head/").json()
    line = _line(client, 2)
    proof = client.get("/api/v1/audit/proofs/inclusion/", {"seq": 2, "tree_size": 4}).json()

    # A verifier that ignored the redaction would compute the blanked content's leaf and fail.
    assert not verifier["check_inclusion"](line["content"], proof, head)
    assert verifier["check_inclusion"](line["content"], proof, head, verifier["event_leaf"](line))


def test_the_readme_audit_check_passes_for_a_redacted_event(live_server, auditor, today):
    verifier = readme_verifier()
    _append(5)
    token = Token.objects.create(user=auditor).key
    get = verifier["get"]
    earlier = json.loads(get(live_server.url, token, "/api/v1/audit/tree-head/"))
    retention_purge(on=_after_keep(today))

    head = verifier["audit_check"](live_server.url, token, earlier["public_key"], 3, earlier)

    assert head["tree_size"] == 6


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE audit_auditevent SET object_id = 'other' WHERE seq = 2",
        "UPDATE audit_auditevent SET reason = 'put back' WHERE seq = 2",
        "UPDATE audit_auditevent SET redacted_by = 1 WHERE seq = 2",
        "UPDATE audit_auditevent SET leaf_hash = NULL WHERE seq = 2",
    ],
    ids=["object changed", "content written back", "purge renamed", "leaf dropped"],
)
def test_an_altered_redacted_event_is_caught(tamper, today):
    _append(4)
    retention_purge(on=_after_keep(today))
    _sql(tamper)

    report = audit_verify_chain()

    assert not report.ok and report.checked == 1
    assert report.first_bad_id == AuditEvent.objects.get(seq=2).pk


def test_an_event_passed_off_as_redacted_without_the_key_is_caught():
    _append(3)
    # Somebody with the database but not the chain key blanks an event and calls it redacted.
    _sql(
        "UPDATE audit_auditevent SET reason = '', data = '{}', redacted_by = 4,"
        " redacted_at = NOW(), leaf_hash = %s, redaction_mac = %s WHERE seq = 2",
        [b"\x00" * 32, "0" * 64],
    )

    report = audit_verify_chain()

    assert not report.ok and "redacted content does not match its MAC" in report.problem


def test_a_second_purge_changes_nothing_and_records_nothing(today):
    _append(4)
    retention_purge(on=_after_keep(today))
    snapshot = Snapshot()

    report = retention_purge(on=_after_keep(today))

    assert report.redacted == 0 and report.purge_events == []
    assert snapshot.unchanged()


def test_events_inside_their_keep_period_are_not_redacted(today):
    _append(3)

    report = retention_purge(on=today + timedelta(days=KEEP - 1))

    assert report.redacted == 0
    assert not AuditEvent.objects.filter(redacted_at__isnull=False).exists()


def test_a_legal_hold_stops_the_purge_for_the_contract_it_covers(manager, today):
    held, free = ContractFactory(), ContractFactory()
    hold_place(
        actor=manager, contract=held, kind="legal_hold", reason="Litigation pending", on=today
    )
    covered = set(
        AuditEvent.objects.filter(object_type="licensing.contract", object_id=str(held.pk))
        .values_list("seq", flat=True)
    )  # fmt: skip
    covered |= set(AuditEvent.objects.filter(data__contract=held.pk).values_list("seq", flat=True))

    report = retention_purge(on=_after_keep(today))

    assert covered and report.held >= len(covered)
    assert not AuditEvent.objects.filter(seq__in=covered, redacted_at__isnull=False).exists()
    assert AuditEvent.objects.filter(
        object_type="licensing.contract", object_id=str(free.pk), redacted_at__isnull=False
    ).exists()
    assert audit_verify_chain().ok


def test_a_hold_of_another_kind_does_not_stop_the_purge(manager, today):
    contract = ContractFactory()
    hold_place(
        actor=manager, contract=contract, kind="open_dispute", reason="Customer disputes", on=today
    )

    retention_purge(on=_after_keep(today))

    assert AuditEvent.objects.filter(
        object_type="licensing.contract", object_id=str(contract.pk), redacted_at__isnull=False
    ).exists()


def test_an_object_type_may_be_kept_longer(admin_user, today):
    _append(2, object_type="tests.kept")
    _append(2, object_type="tests.thing")
    rules = {
        "audit.event": {"keep_days": KEEP, "by_object_type": {"tests.kept": 2 * KEEP}},
        "audit.verification": {"keep_days": 400},
    }
    second_admin = UserFactory(username="grace", is_superuser=True, is_staff=True)
    draft = retention_policy_draft(actor=admin_user, rules=rules, summary="Keep kept things",
                                   effective_from=today, reason="Legal asked")  # fmt: skip
    retention_policy_publish(actor=second_admin, policy_id=draft.pk, reason="Agreed", on=today)

    retention_purge(on=_after_keep(today))

    redacted = set(
        AuditEvent.objects.filter(redacted_at__isnull=False).values_list("object_type", flat=True)
    )
    assert "tests.thing" in redacted and "tests.kept" not in redacted


def test_an_override_on_a_model_also_keeps_the_events_naming_it_by_its_alias(admin_user, today):
    _append(2, object_type="credits.change")  # events name change requests so
    rules = {
        "audit.event": {"keep_days": KEEP, "by_object_type": {"credits.changerequest": 2 * KEEP}},
        "audit.verification": {"keep_days": 400},
    }
    second_admin = UserFactory(username="grace", is_superuser=True, is_staff=True)
    draft = retention_policy_draft(actor=admin_user, rules=rules, summary="Keep changes",
                                   effective_from=today, reason="Legal asked")  # fmt: skip
    retention_policy_publish(actor=second_admin, policy_id=draft.pk, reason="Agreed", on=today)

    retention_purge(on=_after_keep(today))

    assert not AuditEvent.objects.filter(
        object_type="credits.change", redacted_at__isnull=False
    ).exists()


def test_old_verification_results_are_deleted_but_the_latest_stays(today):
    _append(2)
    now = AuditEvent.objects.first().occurred_at
    old = [
        ChainVerification.objects.create(requested_at=now, finished_at=now, ok=True)
        for _ in range(3)
    ]

    report = retention_purge(on=today + timedelta(days=401))

    assert report.verifications_removed == 2
    assert list(ChainVerification.objects.values_list("pk", flat=True)) == [old[-1].pk]
    assert AuditEvent.objects.filter(action="audit.purge", data__verifications_removed=2).exists()


def test_a_policy_is_published_by_somebody_other_than_its_drafter(admin_user, today):
    draft = retention_policy_draft(
        actor=admin_user, rules=parse_retention_rules(RetentionPolicyVersion.objects.get(
            number=1).rules), summary="Same again", effective_from=today, reason="Review",
    )  # fmt: skip

    with pytest.raises(RetentionError, match="other than its drafter"):
        retention_policy_publish(actor=admin_user, policy_id=draft.pk, reason="Mine", on=today)

    assert retention_policy_in_force(on=today).number == 2


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"audit.event": {"keep_days": 10}, "audit.verification": {"keep_days": 400}}, "between"),
        ({"audit.event": {"keep_days": 400}}, "audit.verification: say how long"),
        ({"audit.event": {"keep_days": 400, "then": "delete"},
          "audit.verification": {"keep_days": 400}}, "can only be redacted"),
        ({"mail": {"keep_days": 400}}, "Unknown record kind"),
    ],
    ids=["too short", "kind missing", "events are never deleted", "unknown kind"],
)  # fmt: skip
def test_retention_rules_are_checked(rules, message):
    with pytest.raises(RetentionError, match=message):
        parse_retention_rules(rules)


def test_beat_runs_the_purge_nightly_through_the_task(pinned_clock):
    from audit.tasks import purge_due_records
    from config.settings import CELERY_BEAT_SCHEDULE

    _append(3)
    pinned_clock.shift(timedelta(days=KEEP + 1))

    redacted = purge_due_records.delay().get()

    assert "audit.tasks.purge_due_records" in {e["task"] for e in CELERY_BEAT_SCHEDULE.values()}
    assert redacted == 3
    assert AuditEvent.objects.filter(action="audit.purge").count() == 1


def test_the_purge_command_reports_what_it_did(pinned_clock):
    _append(2)
    pinned_clock.shift(timedelta(days=KEEP + 1))
    out = io.StringIO()

    call_command("audit_purge", stdout=out)
    call_command("audit_purge", stdout=out)  # twice: the second finds nothing due

    assert "retention/v2: 2 events redacted" in out.getvalue()
    assert "retention/v2: 0 events redacted" in out.getvalue()
    assert AuditEvent.objects.filter(action="audit.purge").count() == 1


def test_a_bundle_holding_redacted_events_verifies_with_the_readme_snippet(
    client, auditor, today, tmp_path, settings, django_capture_on_commit_callbacks
):
    from audit.models import ExportJob

    from .verifier import readme_bundle_verifier

    settings.MEDIA_ROOT = tmp_path / "media"
    _append(4)
    retention_purge(on=_after_keep(today))
    _append(2)
    client.force_login(auditor)

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/audit/exports/", {"format": "bundle"})
    job = ExportJob.objects.get(format="bundle")
    path = tmp_path / "bundle.zip"
    path.write_bytes(b"".join(client.get(f"/audit/exports/{job.pk}/download/").streaming_content))

    manifest = readme_bundle_verifier()["check_bundle"](path, tree.public_key_b64())
    assert manifest["counts"]["events"] >= 7
