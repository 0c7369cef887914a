"""The revocation policy's rules, each applied as it says: grace, order, notice, triggers."""

import shutil
import subprocess
from datetime import timedelta

import pytest

from audit.models import AuditEvent
from licensing.bootstrap import REVOCATION_RULES
from licensing.deprovisioning import services
from licensing.deprovisioning.models import DeprovisioningRun
from licensing.errors import DomainError
from licensing.models import Entitlement, LedgerEntry
from tests.factories import ContractFactory, EntitlementFactory


def publish(manager, admin_user, today, **rules):
    draft = services.policy_draft(
        actor=manager, kind="revocation", rules={**REVOCATION_RULES, **rules},
        summary="Changed for the test", effective_from=today, reason="Test",
    )  # fmt: skip
    return services.policy_publish(actor=admin_user, policy_id=draft.pk, reason="Go", on=today)


def terminate(manager, contract, today, **kwargs):
    _, run = services.contract_terminate(
        actor=manager, contract_id=contract.pk, reason="Ended", on=today, **kwargs
    )
    return services.run_advance(run_id=run.pk, on=today)


def test_grace_is_what_the_contract_grants(db, manager, today):
    entitlement = EntitlementFactory(contract=ContractFactory(grace_days=12))

    run = terminate(manager, entitlement.contract, today)

    entitlement.refresh_from_db()
    assert (run.grace_days, run.state) == (12, "executing")
    assert (entitlement.state, entitlement.grace_ends_on) == ("grace", today + timedelta(days=12))


def test_a_contract_without_grace_days_is_revoked_at_once_whatever_the_lifecycle_policy_says(
    db, manager, today
):
    # lifecycle/v1 carried "default_grace_days": 30 (v2 dropped it); nothing applies it.
    entitlement = EntitlementFactory(contract=ContractFactory(grace_days=0))

    run = terminate(manager, entitlement.contract, today)

    entitlement.refresh_from_db()
    assert run.grace_days == 0
    assert (entitlement.state, entitlement.grace_ends_on) == ("revoked", None)


def test_grace_never_runs_longer_than_the_policy_allows(db, manager, admin_user, today):
    publish(manager, admin_user, today, max_grace_days=20)
    entitlement = EntitlementFactory(contract=ContractFactory(grace_days=120))

    run = terminate(manager, entitlement.contract, today)

    entitlement.refresh_from_db()
    assert (run.grace_days, run.policy.label) == (20, "revocation/v2")
    assert entitlement.grace_ends_on == today + timedelta(days=20)


def test_a_runs_ledger_entries_and_events_name_the_revocation_policy(db, manager, today):
    entitlement = EntitlementFactory(contract=ContractFactory(grace_days=0))

    terminate(manager, entitlement.contract, today)

    entry = LedgerEntry.objects.get(entitlement=entitlement, action="revoke")
    event = AuditEvent.objects.get(action="entitlement.revoke", object_id=str(entitlement.pk))
    assert (entry.policy_version, event.policy_version) == ("revocation/v1", "revocation/v1")
    assert entry.quantity_delta == -entitlement.quantity


def test_entitlement_kinds_are_revoked_in_the_policys_order(db, manager, admin_user, today):
    publish(manager, admin_user, today, revoke_order=["seat_pool", "api_quota"])
    contract = ContractFactory(grace_days=0)
    for kind in ("api_quota", "role_permission", "seat_pool"):
        EntitlementFactory(contract=contract, kind=kind)

    terminate(manager, contract, today)

    revoked = LedgerEntry.objects.filter(contract=contract, action="revoke").order_by("pk")
    assert [e.entitlement.kind for e in revoked] == ["seat_pool", "api_quota", "role_permission"]


def test_renewal_stops_when_the_run_is_planned_long_before_anything_is_revoked(db, manager, today):
    entitlement = EntitlementFactory(contract=ContractFactory(grace_days=0), renewal="auto")

    run = terminate(manager, entitlement.contract, today,
                    effective_date=today + timedelta(days=20))  # fmt: skip

    entitlement.refresh_from_db()
    assert run.state == "notified"
    assert (entitlement.state, entitlement.renewal) == ("active", "none")
    latest = entitlement.history.first()
    assert (latest.renewal, latest.history_user) == ("none", manager)
    assert AuditEvent.objects.get(action="contract.suppress_renewal").policy_version == (
        "revocation/v1"
    )


def test_notice_lead_days_put_execution_after_the_notice(db, manager, admin_user, today):
    publish(manager, admin_user, today, notice_lead_days=5)
    entitlement = EntitlementFactory(contract=ContractFactory(grace_days=0))

    run = terminate(manager, entitlement.contract, today)

    entitlement.refresh_from_db()
    assert (run.state, run.execute_on) == ("notified", today + timedelta(days=5))
    assert entitlement.state == "active"
    assert services.run_advance(run_id=run.pk, on=today + timedelta(days=5)).state == "completed"


def test_a_trigger_the_policy_does_not_list_starts_no_run(db, manager, admin_user, today):
    publish(manager, admin_user, today, triggers=["termination", "term_end"])
    contract = ContractFactory()

    with pytest.raises(DomainError) as refused:
        services.run_start(actor=manager, contract=contract, trigger="breach",
                           reason="Escalated", effective_date=today, on=today)  # fmt: skip

    assert refused.value.field == "trigger"
    assert not DeprovisioningRun.objects.exists()
    assert set(Entitlement.objects.values_list("renewal", flat=True)) <= {"auto"}


@pytest.mark.parametrize(
    "rules",
    [
        {"max_attempts": 0},
        {"max_attempts": "5"},
        {"notice_lead_days": -1},
        {"max_grace_days": 1000},
        {"triggers": ["termination", "whim"]},
        {"revoke_order": ["seat_pool", "seat_pool"]},
        {"delete_at_identity_providers": "yes"},
        {"retries": 3},
    ],
)
def test_revocation_rules_out_of_bounds_are_refused_at_draft(db, manager, today, rules):
    with pytest.raises(DomainError) as refused:
        services.policy_draft(
            actor=manager, kind="revocation", rules={**REVOCATION_RULES, **rules},
            summary="Bad", effective_from=today, reason="Test",
        )  # fmt: skip

    assert refused.value.field == "rules"
    assert next(iter(rules)) in str(refused.value)


def test_identity_providers_are_told_to_delete_only_where_the_policy_says(
    db, settings, manager, admin_user, today
):
    settings.DEBUG = True
    publish(manager, admin_user, today, delete_at_identity_providers=True)
    idp = services.connected_system_create(
        actor=admin_user, name="IdP", kind="identity_provider", protocol="scim2",
        base_url="http://127.0.0.1:9/v2", secret="token",
    )  # fmt: skip
    keys = services.connected_system_create(
        actor=admin_user, name="Keys", kind="license_server", protocol="scim2",
        base_url="http://127.0.0.1:9/v2", secret="token",
    )  # fmt: skip
    entitlement = EntitlementFactory(contract=ContractFactory(grace_days=0))
    for system in (idp, keys):
        services.assignment_create(actor=admin_user, entitlement=entitlement, system=system,
                                   external_id="u-1")  # fmt: skip

    _, run = services.contract_terminate(
        actor=manager, contract_id=entitlement.contract_id, reason="Ended", on=today
    )

    assert {(d.system.name, d.delete, d.policy.label) for d in run.deliveries.all()} == {
        ("IdP", True, "revocation/v2"), ("Keys", False, "revocation/v2"),
    }  # fmt: skip


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")
def test_the_notice_names_a_few_entitlements_and_counts_many_alike(db, manager, today):
    contract = ContractFactory(grace_days=0)
    EntitlementFactory(contract=contract, kind="feature_flag", name="Audit export", quantity=1)
    for n in range(7):
        EntitlementFactory(contract=contract, name=f"Analyst seat {n}", scope="Analytics")

    run = terminate(manager, contract, today)

    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=bytes(run.notice_pdf),
                          capture_output=True, check=True).stdout.decode()  # fmt: skip
    assert "Audit export" in text
    assert "7 entitlements for Analytics" in text
    assert "Analyst seat 3" not in text
