"""Reconciliation and rollback against the real SCIM server and webhook receiver."""

import pytest

from audit.models import AuditEvent
from licensing.deprovisioning.models import (
    Delivery,
    DeprovisioningRun,
    Reconciliation,
    ReconciliationFinding,
)
from licensing.models import Entitlement

# Real commits: a run advances after its transaction commits, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def terminate(api, user, contract):
    response = api(user).post(
        f"/api/v1/contracts/{contract.pk}/terminate/", {"reason": "Breach"}, format="json"
    )
    assert response.status_code == 200
    return response.json()["deprovisioning_run"]


def reconcile(api, user, system):
    return api(user).post(f"/api/v1/connected-systems/{system.pk}/reconcile/")


def test_after_a_confirmed_run_reconciliation_finds_nothing(api, manager, estate):
    terminate(api, manager, estate["contract"])

    answers = [reconcile(api, manager, system) for system in estate["systems"]]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json() for a in answers] == [{"checked": 1, "drift": []}] * 3
    assert Reconciliation.objects.count() == 3
    assert not ReconciliationFinding.objects.exists()


def test_a_user_turned_back_on_behind_our_back_is_revoked_again(api, manager, estate, directory):
    terminate(api, manager, estate["contract"])
    idp = estate["systems"][0]
    directory.set_active(estate["user"], True)

    answer = reconcile(api, manager, idp)

    assert answer.status_code == 200
    assert answer.json() == {"checked": 1, "drift": [{
        "external_id": estate["user"], "situation": "linked", "kind": "active_after_revocation",
        "repaired": True,
    }]}  # fmt: skip
    assert directory.user(estate["user"]).active is False
    repair = Delivery.objects.get(reconciliation__isnull=False)
    assert (repair.action, repair.state, repair.system) == ("revoke", "confirmed", idp)
    stored = Reconciliation.objects.get()
    assert (stored.checked, stored.drift, stored.repaired, stored.started_by) == (1, 1, 1, manager)
    assert ReconciliationFinding.objects.get().state == "resolved"
    # Once repaired, the next pass is clean.
    assert reconcile(api, manager, idp).json() == {"checked": 1, "drift": []}


def test_drift_that_is_not_safe_to_repair_goes_to_the_review_queue(
    api, manager, estate, directory, flaky_receiver
):
    idp, _roles, keys = estate["systems"]
    # Nothing was terminated: the key and the seat are live, yet the systems disagree.
    del flaky_receiver.holders["acct-7"]
    directory.set_active(estate["user"], False)

    missing = reconcile(api, manager, keys)
    inactive = reconcile(api, manager, idp)

    assert missing.json()["drift"] == [
        {"external_id": "acct-7", "situation": "deleted", "kind": "missing", "repaired": False}
    ]
    assert inactive.json()["drift"] == [{
        "external_id": estate["user"], "situation": "linked", "kind": "mismatch",
        "repaired": False,
    }]  # fmt: skip
    assert set(ReconciliationFinding.objects.values_list("state", flat=True)) == {"open"}
    assert not Delivery.objects.exists()
    assert directory.user(estate["user"]).active is False


def test_customers_never_reconcile(api, customer_user, estate):
    answer = reconcile(api, customer_user, estate["systems"][0])

    assert answer.status_code == 404
    assert not Reconciliation.objects.exists()


def test_rollback_asked_by_one_manager_approved_by_another_restores_everywhere(
    api, manager, manager2, estate, directory, flaky_receiver
):
    run_id = terminate(api, manager, estate["contract"])
    url = f"/api/v1/deprovisioning-runs/{run_id}/rollback/"

    asked = api(manager).post(url, {"reason": "Paid after all"}, format="json")
    by_asker = api(manager).post(url + "approve/", {"reason": "Mine"}, format="json")

    assert (asked.status_code, by_asker.status_code) == (202, 403)
    assert DeprovisioningRun.objects.get(pk=run_id).state == "completed"
    assert directory.user(estate["user"]).active is False

    approved = api(manager2).post(url + "approve/", {"reason": "Confirmed"}, format="json")

    assert approved.status_code == 200
    run = DeprovisioningRun.objects.get(pk=run_id)
    assert (run.state, run.rollback_requested_by, run.rollback_approved_by) == (
        "rolled_back", manager, manager2
    )  # fmt: skip
    assert directory.user(estate["user"]).active is True
    assert estate["member"] in directory.members(estate["group"])
    assert flaky_receiver.holders["acct-7"] is True
    restores = Delivery.objects.filter(run_id=run_id, action="restore")
    assert [d.state for d in restores] == ["confirmed"] * 3
    assert set(Entitlement.objects.values_list("state", flat=True)) == {"restored"}
    event = AuditEvent.objects.get(action="deprovisioning.rollback")
    assert event.policy_version == "revocation/v1"
    # Restored everywhere, so reconciliation agrees with every system.
    for system in estate["systems"]:
        assert reconcile(api, manager, system).json()["drift"] == []
