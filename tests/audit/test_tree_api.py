"""The Merkle log through its storage and API, checked by the README's verifier."""

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token

from audit import tree
from audit.models import MerkleNode, SignedTreeHead
from audit.services import EventSpec, audit_record, audit_record_many
from audit.tasks import sign_tree_head

from .verifier import readme_verifier

HEAD = "/api/v1/audit/tree-head/"
EVENTS = "/api/v1/audit/events/"
INCLUSION = "/api/v1/audit/proofs/inclusion/"
CONSISTENCY = "/api/v1/audit/proofs/consistency/"


def _append(n: int, actor=None, start: int = 0) -> None:
    specs = [
        EventSpec("test.event", "tests.thing", str(i), f"event {i}", "lifecycle/v1",
                  {"n": i, "amount": "1.50", "note": "Grüße"})
        for i in range(start, start + n)
    ]  # fmt: skip
    # Uneven batches, as real writers append.
    while specs:
        batch, specs = specs[:7], specs[7:]
        audit_record_many(actor=actor, specs=batch)


def _sql(statement: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _contents(client) -> dict[int, dict]:
    body = b"".join(client.get(EVENTS, {"format": "jsonl"}).streaming_content).decode()
    lines = [json.loads(line) for line in body.splitlines()]
    return {line["seq"]: line["content"] for line in lines}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "allowed"),
    [("auditor", True), ("admin_user", True), ("manager", False), ("analyst", False),
     ("customer_user", False)],
    indirect=["persona"],
)  # fmt: skip
@pytest.mark.parametrize("path", [HEAD, EVENTS, f"{INCLUSION}?seq=1&tree_size=1",
                                  f"{CONSISTENCY}?first=1&second=1"])  # fmt: skip
def test_only_auditors_and_admins_read_the_merkle_log(api, persona, allowed, path):
    _append(1)

    response = api(persona).get(path)

    assert response.status_code == (200 if allowed else 403)


@pytest.mark.django_db
@pytest.mark.parametrize("path", [HEAD, EVENTS, INCLUSION, CONSISTENCY])
def test_anonymous_callers_are_refused(api, path):
    assert api().get(path).status_code in (401, 403)


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", [HEAD, EVENTS, INCLUSION, CONSISTENCY])
def test_the_merkle_log_has_no_unsafe_methods(api, auditor, method, path):
    assert getattr(api(auditor), method)(path).status_code == 405


@pytest.mark.django_db
def test_the_tree_head_is_signed_for_the_newest_event_and_verifies(api, auditor):
    _append(5)
    verifier = readme_verifier()

    head = api(auditor).get(HEAD).json()

    assert head["tree_size"] == 5
    assert set(head) == {"tree_size", "root_hash", "signature", "public_key", "signed_at"}
    verifier["check_head"](head, tree.public_key_b64())
    assert SignedTreeHead.objects.filter(tree_size=5).count() == 1
    assert api(auditor).get(HEAD).json() == head  # covered: not signed again


@pytest.mark.django_db
def test_a_forged_head_fails_the_readme_signature_check(api, auditor):
    _append(3)
    head = api(auditor).get(HEAD).json()
    from cryptography.exceptions import InvalidSignature

    with pytest.raises(InvalidSignature):
        readme_verifier()["check_head"](head | {"tree_size": 2}, head["public_key"])


@pytest.mark.django_db
def test_newer_events_get_a_newer_head_and_old_heads_stay_readable(api, auditor):
    _append(3)
    first = api(auditor).get(HEAD).json()
    _append(4, start=3)

    latest = api(auditor).get(HEAD).json()
    stored = api(auditor).get(HEAD, {"tree_size": 3}).json()

    assert latest["tree_size"] == 7
    assert stored == first
    assert api(auditor).get(HEAD, {"tree_size": 5}).status_code == 404


@pytest.mark.django_db
def test_the_daily_task_and_the_command_sign_once_per_size(capsys):
    _append(4)

    sign_tree_head.delay()
    call_command("sign_tree_head")

    head = SignedTreeHead.objects.get()
    assert head.tree_size == 4 and tree.verify_tree_head(head).ok
    assert "Tree head for 4 events" in capsys.readouterr().out


@pytest.mark.django_db
def test_an_empty_log_has_the_empty_root(api, auditor):
    head = api(auditor).get(HEAD).json()

    assert head["tree_size"] == 0
    assert head["root_hash"] == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.django_db
@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_api_proofs_verify_with_the_readme_snippet(api, auditor, data):
    if not SignedTreeHead.objects.exists():  # one log of 60 events serves every example
        _append(60)
        for size in range(1, 61):
            tree.tree_head_sign(size=size)
    client, verifier = api(auditor), readme_verifier()
    contents = _contents(client)
    second = data.draw(st.integers(1, 60))
    first = data.draw(st.integers(1, second))
    new = client.get(HEAD, {"tree_size": second}).json()
    old = client.get(HEAD, {"tree_size": first}).json()

    for seq in range(1, second + 1):
        proof = client.get(INCLUSION, {"seq": seq, "tree_size": second}).json()
        assert verifier["check_inclusion"](contents[seq], proof, new)
        if second > 1:
            wrong = contents[seq % second + 1]
            assert not verifier["check_inclusion"](wrong, proof, new)
    proof = client.get(CONSISTENCY, {"first": first, "second": second}).json()
    assert verifier["check_consistency"](old, new, proof)
    verifier["check_head"](new, tree.public_key_b64())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        (INCLUSION, {"tree_size": 3}, "seq"),
        (INCLUSION, {"seq": "x", "tree_size": 3}, "seq"),
        (INCLUSION, {"seq": 0, "tree_size": 3}, "seq"),
        (INCLUSION, {"seq": 4, "tree_size": 3}, "seq"),
        (INCLUSION, {"seq": 1, "tree_size": 9}, "tree_size"),
        (INCLUSION, {"seq": 1}, "tree_size"),
        (CONSISTENCY, {"first": 3, "second": 2}, "first"),
        (CONSISTENCY, {"first": 0, "second": 2}, "first"),
        (CONSISTENCY, {"first": 1, "second": 9}, "second"),
        (CONSISTENCY, {"first": 1}, "second"),
        (HEAD, {"tree_size": -1}, "tree_size"),
        (EVENTS, {"format": "xml"}, "format"),
        (EVENTS, {"period_start": "yesterday"}, "period_start"),
        (EVENTS, {"period_start": "2026-02-02", "period_end": "2026-02-01"}, "period_end"),
        (EVENTS, {"seq_from": "0"}, "seq_from"),
    ],
)
def test_bad_parameters_answer_400_naming_the_field(api, auditor, path, params, field):
    _append(3)

    response = api(auditor).get(path, params)

    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.django_db
def test_the_jsonl_export_streams_the_exact_hashed_content(api, auditor):
    _append(3)

    response = api(auditor).get(EVENTS, {"format": "jsonl"})

    assert response.streaming and response["Content-Type"] == "application/x-ndjson"
    contents = _contents(api(auditor))
    # Each export is itself an event, recorded before its lines stream: #4 and #5 here.
    assert sorted(contents) == [1, 2, 3, 4, 5]
    assert {contents[4]["action"], contents[5]["action"]} == {"audit.export"}
    assert contents[2]["data"] == {"n": 1, "amount": "1.50", "note": "Grüße"}
    leaves = tree.read_nodes([(0, i) for i in range(len(contents))])
    for seq, content in contents.items():
        assert readme_verifier()["leaf_hash"](content) == leaves[(0, seq - 1)]


@pytest.mark.django_db
def test_the_csv_export_has_one_column_per_content_field(api, auditor):
    _append(2)

    response = api(auditor).get(EVENTS, {"format": "csv"})

    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["seq"] for row in rows] == ["1", "2", "3"]
    assert rows[2]["action"] == "audit.export"  # the export itself, recorded first
    assert set(rows[0]) == set(_contents(api(auditor))[1])
    assert json.loads(rows[1]["data"]) == {"n": 1, "amount": "1.50", "note": "Grüße"}


@pytest.mark.django_db
def test_the_export_filters_by_actor_object_action_and_seq(api, auditor, manager):
    _append(3)
    audit_record(actor=manager, action="contract.activate", object_type="licensing.contract",
                 object_id=42)  # fmt: skip
    client = api(auditor)

    def seqs(**params) -> list[int]:
        body = b"".join(client.get(EVENTS, params).streaming_content).decode()
        return [json.loads(line)["seq"] for line in body.splitlines()]

    assert seqs(actor="maya") == [4]
    assert seqs(object_type="licensing.contract", object_id="42") == [4]
    assert seqs(action="test.event") == [1, 2, 3]
    assert seqs(seq_from=2, seq_to=3) == [2, 3]
    assert seqs(period_end="2000-01-01") == []


@pytest.mark.django_db
def test_appends_store_two_rows_per_event_at_most_and_proofs_read_few(
    api, auditor, django_assert_max_num_queries
):
    _append(200)

    # The leaves plus one row per completed perfect subtree: n - popcount(n) of them.
    assert MerkleNode.objects.count() == 200 + 200 - bin(200).count("1")
    with django_assert_max_num_queries(2):
        tree.inclusion_proof(seq=77, size=200)


@pytest.mark.django_db
def test_the_backfill_rebuilds_the_same_subtrees():
    _append(23)
    before = dict(((n.level, n.index), bytes(n.hash)) for n in MerkleNode.objects.all())
    MerkleNode.objects.all().delete()
    from importlib import import_module

    from django.apps import apps

    import_module("audit.migrations.0004_backfill_merkle_nodes").backfill(apps, None)

    after = dict(((n.level, n.index), bytes(n.hash)) for n in MerkleNode.objects.all())
    assert after == before


def _edit(pk_of):
    _sql("UPDATE audit_auditevent SET reason = 'nothing to see' WHERE seq = 3")


def _delete(pk_of):
    _sql("DELETE FROM audit_auditevent WHERE seq = 3")


def _insert(pk_of):
    _sql("UPDATE audit_auditevent SET seq = seq + 1000 WHERE seq >= 3")
    _sql("UPDATE audit_auditevent SET seq = seq - 999 WHERE seq >= 1000")
    _sql(
        "INSERT INTO audit_auditevent (seq, occurred_at, actor_username, action, object_type,"
        " object_id, reason, policy_version, data, prev_hash, hash)"
        " SELECT 3, occurred_at, actor_username, action, object_type, object_id, 'slipped in',"
        " policy_version, data, prev_hash, 'forged' FROM audit_auditevent WHERE seq = 2"
    )


def _reorder(pk_of):
    _sql("UPDATE audit_auditevent SET seq = 1000 WHERE seq = 3")
    _sql("UPDATE audit_auditevent SET seq = 3 WHERE seq = 4")
    _sql("UPDATE audit_auditevent SET seq = 4 WHERE seq = 1000")


@pytest.mark.django_db
@pytest.mark.parametrize("tamper", [_edit, _delete, _insert, _reorder])
def test_a_tampered_event_makes_the_recomputed_root_disagree_with_the_signed_head(tamper):
    _append(6)
    head = tree.tree_head_sign()
    assert tree.verify_tree_head(head).ok

    tamper(None)

    report = tree.verify_tree_head(SignedTreeHead.objects.get(pk=head.pk))
    assert not report.ok and report.problem


@pytest.mark.django_db
def test_a_head_with_a_forged_root_fails_verification():
    _append(4)
    head = tree.tree_head_sign()
    head.root_hash = "00" * 32

    assert tree.verify_tree_head(head).problem == "the signature does not match the head"


@pytest.mark.django_db
def test_the_schema_publishes_the_merkle_log(api, auditor):
    schema = api(auditor).get("/api/schema/", {"format": "json"}).json()

    for path in (HEAD, EVENTS, INCLUSION, CONSISTENCY):
        assert path in schema["paths"]
    parameters = {p["name"] for p in schema["paths"][INCLUSION]["get"]["parameters"]}
    assert {"seq", "tree_size"} <= parameters


@pytest.mark.django_db(transaction=True)
def test_the_readme_audit_check_runs_against_a_live_server(live_server, auditor):
    _append(9)
    earlier = tree.tree_head_sign()
    _append(5, start=9)
    token = Token.objects.create(user=auditor).key
    pinned = tree.public_key_b64()
    earlier_head = {
        "tree_size": earlier.tree_size, "root_hash": earlier.root_hash,
        "signature": earlier.signature, "public_key": earlier.public_key,
    }  # fmt: skip

    head = readme_verifier()["audit_check"](live_server.url, token, pinned, 4, earlier_head)

    assert head["tree_size"] == 14
