"""Reconciliation classifies each disagreement as identity-governance tools do.

The report is given as rows (what a system's export says), so every situation can be set up
exactly; the comparison is the one the API and the nightly job run.
"""

import pytest

from audit.models import AuditEvent
from licensing.deprovisioning import services
from licensing.deprovisioning.connectors.webhook import new_webhook_secret
from licensing.deprovisioning.models import Delivery
from licensing.deprovisioning.reconciliation import reconcile_system, repair_confirmed
from tests.factories import ContractFactory, EntitlementFactory


@pytest.fixture
def system(settings, admin_user):
    settings.DEBUG = True
    return services.connected_system_create(
        actor=admin_user, name="Directory", kind="identity_provider", protocol="webhook",
        base_url="http://127.0.0.1:9/", secret=new_webhook_secret(),
    )  # fmt: skip


@pytest.fixture
def findings(system, admin_user, manager, today):
    ended = ContractFactory(grace_days=0)
    gone = EntitlementFactory(contract=ended, state="revoked")
    services.run_start(actor=manager, contract=ended, trigger="termination", reason="Ended",
                       effective_date=today, on=today)  # fmt: skip
    live = EntitlementFactory(contract=ContractFactory())
    for entitlement, holder in [(gone, "u1"), (live, "u2"), (live, "u3"), (gone, "u4"),
                                (live, "u4"), (live, "u5"), (live, "u6")]:  # fmt: skip
        services.assignment_create(actor=admin_user, entitlement=entitlement, system=system,
                                   external_id=holder)  # fmt: skip
    report = [
        ("", "u1", True, None),  # revoked here, active there
        # u2 is missing there
        ("", "u3", False, None),  # entitled here, inactive there
        ("", "u4", True, None),  # revoked under one entitlement, granted under another
        ("", "u5", None, "503 Service Unavailable"),  # the system could not say
        ("", "u6", True, None),  # agrees
        ("admins", "u9", True, None),  # a member we never assigned
    ]
    done = reconcile_system(actor=manager, system_id=system.pk, on=today, report=report)
    return done, {(f.external_id, f.situation, f.kind, f.repaired) for f in done.findings.all()}


def test_every_kind_of_disagreement_is_classified(findings):
    done, found = findings

    assert (done.checked, done.drift) == (7, 6)
    assert found == {
        ("u1", "linked", "active_after_revocation", False),
        ("u2", "deleted", "missing", False),
        ("u3", "linked", "mismatch", False),
        ("u4", "disputed", "mismatch", False),
        ("u5", "unlinked", "mismatch", False),
        ("u9", "unmatched", "mismatch", False),
    }


def test_only_a_holder_active_after_revocation_is_sent_a_re_revocation(findings):
    done, _ = findings

    repair = Delivery.objects.get(reconciliation=done)
    assert (repair.external_id, repair.action, repair.state) == ("u1", "revoke", "pending")
    assert repair.queued_at is not None and repair.policy.label == "revocation/v1"
    event = AuditEvent.objects.get(action="reconciliation.run")
    assert (event.data["checked"], event.data["drift"], event.data["repairs_sent"]) == (7, 6, 1)
    assert event.policy_version == "revocation/v1"


def test_a_finding_turns_repaired_when_its_re_revocation_is_confirmed(findings):
    done, _ = findings

    repair_confirmed(Delivery.objects.get(reconciliation=done))

    done.refresh_from_db()
    finding = done.findings.get(external_id="u1")
    assert (finding.repaired, finding.state, done.repaired) == (True, "resolved", 1)
