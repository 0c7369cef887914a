"""Deprovisioning one entitlement (an escalated breach case): the same run as a termination's,
scoped to it, against the real SCIM server and the signature-checking webhook receiver."""

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from licensing.deprovisioning import services
from licensing.deprovisioning.models import Delivery, DeprovisioningRun
from licensing.deprovisioning.reconciliation import reconcile_system
from licensing.errors import TransitionNotAllowed
from licensing.models import Entitlement

# Real commits: the run advances after its transaction commits, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

REASON = "Breach case 7: kept adding users after two warnings"


def deprovision(manager, entitlement) -> DeprovisioningRun:
    run = services.entitlement_deprovision(
        actor=manager, entitlement_id=entitlement.pk, reason=REASON, on=timezone.localdate()
    )
    return DeprovisioningRun.objects.get(pk=run.pk)


def test_one_product_key_is_revoked_at_the_license_server_and_nothing_else_moves(
    manager, estate, directory, flaky_receiver
):
    seats, key, role = estate["entitlements"]

    run = deprovision(manager, key)

    assert (run.state, run.trigger, run.entitlement_id) == ("completed", "breach", key.pk)
    [delivery] = run.deliveries.all()
    # The receiver failed twice, then accepted: retried, confirmed by read-back.
    assert (delivery.external_id, delivery.state, delivery.attempts) == ("acct-7", "confirmed", 3)
    assert flaky_receiver.holders["acct-7"] is False
    key.refresh_from_db()
    assert (key.state, key.renewal) == ("revoked", "none")
    assert key.ledger.filter(reason__startswith=f"Deprovisioning run {run.pk}:").exists()
    for untouched in (seats, role):
        before = untouched.renewal
        untouched.refresh_from_db()
        assert (untouched.state, untouched.renewal) == ("active", before)
    assert directory.user(estate["user"]).active is True
    assert estate["member"] in directory.members(estate["group"])
    plan = AuditEvent.objects.get(action="deprovisioning.plan", object_id=run.pk)
    assert (plan.data["entitlement"], plan.policy_version) == (key.pk, "revocation/v1")


def test_one_seat_pool_is_deactivated_at_the_directory_and_the_license_server_hears_nothing(
    manager, estate, directory, flaky_receiver
):
    seats = estate["entitlements"][0]

    run = deprovision(manager, seats)

    assert run.state == "completed"
    assert [d.system.name for d in run.deliveries.all()] == ["Directory"]
    assert directory.user(estate["user"]).active is False
    assert flaky_receiver.attempts == []
    assert run.notice_sha256  # the customer was told, as for any run


def test_reconciliation_after_a_one_entitlement_run_repairs_a_holder_turned_back_on(
    manager, estate, directory
):
    seats = estate["entitlements"][0]
    deprovision(manager, seats)
    idp = estate["systems"][0]
    directory.set_active(estate["user"], True)  # behind our back

    done = reconcile_system(actor=manager, system_id=idp.pk, on=timezone.localdate())

    assert (done.drift, done.repaired) == (1, 1)
    assert directory.user(estate["user"]).active is False


@pytest.fixture
def in_grace(estate):
    contract = estate["contract"]
    contract.grace_days = 5
    contract.save(update_fields=["grace_days"])
    return estate


def test_a_second_request_for_the_same_entitlement_joins_its_open_run(manager, in_grace):
    key = in_grace["entitlements"][1]
    first = deprovision(manager, key)
    assert (first.state, Entitlement.objects.get(pk=key.pk).state) == ("executing", "grace")

    second = deprovision(manager, key)

    assert second.pk == first.pk
    assert DeprovisioningRun.objects.count() == 1
    assert AuditEvent.objects.filter(action="deprovisioning.join", object_id=first.pk).exists()


def test_terminating_the_contract_starts_its_own_run_beside_one_for_an_entitlement(
    manager, in_grace
):
    key = in_grace["entitlements"][1]
    scoped = deprovision(manager, key)

    _contract, whole = services.contract_terminate(
        actor=manager, contract_id=in_grace["contract"].pk, reason="Terminated",
        on=timezone.localdate(),
    )  # fmt: skip

    assert whole.pk != scoped.pk and whole.entitlement_id is None
    # The key, still in grace, is the contract's too: revoking twice is harmless (read back).
    assert set(Delivery.objects.filter(run=whole).values_list("external_id", flat=True)) == {
        in_grace["user"],
        in_grace["member"],
        "acct-7",
    }


def test_an_entitlement_already_revoked_is_not_deprovisioned_again(manager, estate):
    key = estate["entitlements"][1]
    deprovision(manager, key)

    with pytest.raises(TransitionNotAllowed, match="nothing to take back"):
        deprovision(manager, key)

    assert DeprovisioningRun.objects.count() == 1


def test_the_run_page_says_it_takes_back_only_the_one_entitlement(client, manager, estate):
    key = estate["entitlements"][1]
    run = deprovision(manager, key)
    client.force_login(manager)

    page = client.get(f"/deprovisioning/runs/{run.pk}/").content.decode()

    assert f'only <a href="{key.get_absolute_url()}">{key.name}</a>' in page
    assert "Escalated breach case" in page


def test_another_entitlement_in_grace_does_not_hold_up_a_one_entitlement_run(manager, estate):
    from licensing.services import entitlement_transition

    seats, key, _role = estate["entitlements"]
    contract = estate["contract"]
    contract.grace_days = 5
    contract.save(update_fields=["grace_days"])
    entitlement_transition(actor=manager, entitlement_id=seats.pk, transition="start_grace",
                           reason="Winding down the seats")  # fmt: skip
    contract.grace_days = 0
    contract.save(update_fields=["grace_days"])

    run = deprovision(manager, key)

    assert run.state == "completed"
    assert Entitlement.objects.get(pk=seats.pk).state == "grace"


def test_rolling_back_the_contracts_run_leaves_what_a_breach_run_took_revoked(
    manager, manager2, estate, directory, flaky_receiver
):
    from licensing.deprovisioning.reconciliation import rollback_approve, rollback_request

    seats, key, role = estate["entitlements"]
    scoped = deprovision(manager, key)
    _contract, whole = services.contract_terminate(
        actor=manager, contract_id=estate["contract"].pk, reason="Terminated",
        on=timezone.localdate(),
    )  # fmt: skip
    assert DeprovisioningRun.objects.get(pk=whole.pk).state == "completed"

    rollback_request(actor=manager, run_id=whole.pk, reason="Paid after all")
    rollback_approve(actor=manager2, run_id=whole.pk, reason="Confirmed", on=timezone.localdate())

    # The contract's run gives back what it took; the breach run's revocation stands.
    states = dict(Entitlement.objects.values_list("pk", "state"))
    assert [states[e.pk] for e in (seats, role, key)] == ["restored", "restored", "revoked"]
    assert DeprovisioningRun.objects.get(pk=scoped.pk).state == "completed"
    restores = Delivery.objects.filter(run=whole, action="restore")
    assert sorted(d.external_id for d in restores) == sorted([estate["user"], estate["member"]])
    assert flaky_receiver.holders["acct-7"] is False
    assert directory.user(estate["user"]).active is True
    event = AuditEvent.objects.get(action="deprovisioning.rollback")
    assert sorted(event.data["entitlements"]) == sorted([seats.pk, role.pk])
