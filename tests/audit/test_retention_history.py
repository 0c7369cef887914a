"""Retention of change history: due rows are deleted, newest rows and held rows stay."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit import tree
from audit.models import AuditEvent, RetentionPolicyVersion
from audit.retention import (
    DEFAULT_RULES,
    V1_RULES,
    RetentionError,
    parse_retention_rules,
    retention_policy_draft,
    retention_policy_in_force,
    retention_policy_publish,
    retention_purge,
)
from audit.retention_history import purge_history
from audit.selectors import audit_verify_chain
from licensing.deprovisioning.services import hold_place
from licensing.models import Contract, Customer, Entitlement
from tests.factories import ContractFactory, CustomerFactory, EntitlementFactory, UserFactory
from tests.support import Snapshot

from .verifier import readme_verifier

pytestmark = pytest.mark.django_db

KEEP = 2557  # retention/v2 keeps history rows this many days


def _after_keep(today):
    return today + timedelta(days=KEEP + 1)


def _rows(model, pk) -> list[str]:
    return list(
        model.history.filter(id=pk).order_by("history_date", "history_id")
        .values_list("history_type", flat=True)
    )  # fmt: skip


def test_v2_of_the_default_policy_adds_the_history_rule_and_v1_is_unchanged(today):
    v1, v2 = RetentionPolicyVersion.objects.filter(number__in=[1, 2]).order_by("number")

    assert v1.rules == V1_RULES and "history" not in v1.rules
    assert v2.rules == DEFAULT_RULES and v2.status == "published"
    assert parse_retention_rules(v2.rules)["history"] == {
        "keep_days": KEEP, "then": "delete", "by_model": {}
    }  # fmt: skip
    assert retention_policy_in_force(on=today) == v2


def test_due_history_rows_are_deleted_but_each_live_objects_newest_row_stays(today):
    contract = ContractFactory()  # created, then activated: two rows
    assert _rows(Contract, contract.pk) == ["+", "~"]

    report = retention_purge(on=_after_keep(today))

    assert _rows(Contract, contract.pk) == ["~"]
    newest = Contract.history.get(id=contract.pk)
    assert newest.status == Contract.objects.get(pk=contract.pk).status
    assert report.history_deleted >= 1


def test_history_rows_inside_their_keep_period_stay(today):
    contract = ContractFactory()

    report = retention_purge(on=today + timedelta(days=KEEP - 1))

    assert report.history_deleted == 0
    assert _rows(Contract, contract.pk) == ["+", "~"]


def test_every_row_of_a_deleted_object_goes_when_due(today):
    customer = CustomerFactory()
    pk = customer.pk
    customer.delete()
    assert _rows(Customer, pk) == ["+", "-"]

    retention_purge(on=_after_keep(today))

    assert _rows(Customer, pk) == []


@pytest.mark.parametrize("kind", ["legal_hold", "data_preservation"])
def test_a_hold_keeps_the_history_of_the_contract_and_what_belongs_to_it(kind, manager, today):
    held = EntitlementFactory(state="suspended")  # created, activated, suspended
    free = EntitlementFactory(state="suspended")
    hold_place(actor=manager, contract=held.contract, kind=kind, reason="Litigation", on=today)
    line = held.contract.lines.get()
    kept = {
        "contract": _rows(Contract, held.contract_id),
        "entitlement": _rows(Entitlement, held.pk),
        "line": _rows(type(line), line.pk),
    }

    report = retention_purge(on=_after_keep(today))

    assert report.history_held > 0
    assert _rows(Contract, held.contract_id) == kept["contract"]
    assert _rows(Entitlement, held.pk) == kept["entitlement"]
    assert _rows(type(line), line.pk) == kept["line"]
    assert _rows(Entitlement, free.pk) == ["~"]
    assert _rows(Contract, free.contract_id) == ["~"]


def test_an_open_dispute_hold_does_not_keep_history(manager, today):
    contract = ContractFactory()
    hold_place(actor=manager, contract=contract, kind="open_dispute", reason="Dispute", on=today)

    retention_purge(on=_after_keep(today))

    assert _rows(Contract, contract.pk) == ["~"]


def test_the_history_purge_records_one_event_with_its_counts(today):
    contracts = [ContractFactory() for _ in range(3)]

    report = retention_purge(on=_after_keep(today))

    event = AuditEvent.objects.get(action="audit.purge", data__has_key="history_deleted")
    assert event.policy_version == "retention/v2"
    assert event.data["history_deleted"] == report.history_deleted
    assert event.data["history_by_model"]["licensing.contract"] == len(contracts)
    assert sum(event.data["history_by_model"].values()) == report.history_deleted
    assert event.data["history_held"] == 0


def test_a_second_history_purge_changes_nothing_and_records_nothing(today):
    ContractFactory()
    retention_purge(on=_after_keep(today))
    snapshot = Snapshot()

    report = retention_purge(on=_after_keep(today))

    assert report.history_deleted == 0
    assert snapshot.unchanged()


def test_the_history_purge_runs_the_same_queries_for_ten_or_forty_contracts(today):
    rule = parse_retention_rules(DEFAULT_RULES)["history"]

    def queries(n: int) -> int:
        for _ in range(n):
            ContractFactory()
        with CaptureQueriesContext(connection) as captured:
            done = purge_history(rule=rule, on=_after_keep(today), holds=[])
        assert done.deleted["licensing.contract"] == n
        return len(captured)

    assert queries(10) == queries(40)


def test_a_model_may_keep_its_history_longer(admin_user, today):
    contract = ContractFactory()
    entitlement = EntitlementFactory()
    longer = {"licensing.contract": 2 * KEEP}
    rules = {**DEFAULT_RULES, "history": {"keep_days": KEEP, "by_model": longer}}
    draft = retention_policy_draft(actor=admin_user, rules=rules, summary="Contracts longer",
                                   effective_from=today, reason="Legal asked")  # fmt: skip
    other = UserFactory(username="grace", is_superuser=True, is_staff=True)
    retention_policy_publish(actor=other, policy_id=draft.pk, reason="Agreed", on=today)

    retention_purge(on=_after_keep(today))

    assert _rows(Contract, contract.pk) == ["+", "~"]
    assert _rows(Entitlement, entitlement.pk) == ["~"]


def test_proofs_still_verify_after_the_history_purge(api, auditor, today):
    verifier = readme_verifier()
    ContractFactory()
    client = api(auditor)
    earlier = client.get("/api/v1/audit/tree-head/").json()

    report = retention_purge(on=_after_keep(today))

    head = client.get("/api/v1/audit/tree-head/").json()
    assert report.history_deleted and head["tree_size"] > earlier["tree_size"]
    for seq in (1, head["tree_size"]):
        body = b"".join(
            client.get("/api/v1/audit/events/", {"seq_from": seq, "seq_to": seq}).streaming_content
        )
        line = json.loads(body)
        proof = client.get(
            "/api/v1/audit/proofs/inclusion/", {"seq": seq, "tree_size": head["tree_size"]}
        ).json()
        assert verifier["check_inclusion"](
            line["content"], proof, head, verifier["event_leaf"](line)
        )
    consistency = client.get(
        "/api/v1/audit/proofs/consistency/",
        {"first": earlier["tree_size"], "second": head["tree_size"]},
    ).json()
    assert verifier["check_consistency"](earlier, head, consistency)
    assert audit_verify_chain().ok
    assert tree.verify_tree_head(tree.tree_head_latest()).ok


@pytest.mark.parametrize(
    ("history", "message"),
    [
        ({"keep_days": 400, "then": "redact"}, "can only be deleted"),
        ({"keep_days": 400, "by_model": {"licensing.nothing": 500}}, "no history is kept"),
        ({"keep_days": 400, "by_model": {"licensing.contract": 5}}, "between"),
        ({"keep_days": 400, "by_model": ["licensing.contract"]}, "maps model labels"),
    ],
    ids=["history is never redacted", "unknown model", "override too short", "not a mapping"],
)
def test_history_rules_are_checked(history, message):
    with pytest.raises(RetentionError, match=message):
        parse_retention_rules({**V1_RULES, "history": history})
