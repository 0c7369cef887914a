"""Two runs over one holder (a contract's termination beside a run for one entitlement of it,
from a willful breach): the change is sent once; the second run reads the holder back and
records the first run's confirmation. Against the real SCIM server and the signature-checking
webhook receiver (which fails its first two attempts)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from licensing.deprovisioning import services
from licensing.deprovisioning.models import Delivery, DeprovisioningRun
from licensing.deprovisioning.tasks import deprovisioning_nightly

pytestmark = pytest.mark.django_db(transaction=True)

BREACH = "Breach case 7: kept adding users after two warnings"


def terminate(manager, contract) -> DeprovisioningRun:
    _contract, run = services.contract_terminate(
        actor=manager, contract_id=contract.pk, reason="Terminated for convenience",
        on=timezone.localdate(),
    )  # fmt: skip
    return DeprovisioningRun.objects.get(pk=run.pk)


def revokes_applied(receiver, external_id: str) -> int:
    return sum(
        e["type"] == "entitlement.revoked" and e["data"]["external_id"] == external_id
        for e in receiver.deliveries.values()
    )


def test_a_key_the_contracts_run_revoked_is_not_sent_again_by_the_breach_run(
    client, manager, estate, flaky_receiver
):
    key = estate["entitlements"][1]
    later = timezone.localdate() + timedelta(days=14)
    scoped = services.entitlement_deprovision(
        actor=manager, entitlement_id=key.pk, reason=BREACH, on=timezone.localdate(),
        effective_date=later,
    )  # fmt: skip
    assert DeprovisioningRun.objects.get(pk=scoped.pk).state == "notified"  # waits for its date
    whole = terminate(manager, estate["contract"])
    assert whole.state == "completed"
    [first] = whole.deliveries.filter(entitlement=key)
    posts = len(flaky_receiver.attempts)

    services.run_execute(actor=manager, run_id=scoped.pk, reason="Due now: the contract ended",
                         on=timezone.localdate())  # fmt: skip

    scoped.refresh_from_db()
    [second] = scoped.deliveries.all()
    assert (scoped.state, second.state, second.attempts) == ("completed", "confirmed", 0)
    assert second.covered_by_id == first.pk
    assert len(flaky_receiver.attempts) == posts  # nothing more was posted
    assert revokes_applied(flaky_receiver, "acct-7") == 1
    event = AuditEvent.objects.get(action="delivery.confirm_existing", object_id=second.pk)
    assert (event.data["covered_by_run"], event.policy_version) == (whole.pk, "revocation/v1")
    assert f"run {whole.pk}" in event.reason
    client.force_login(manager)
    page = client.get(f"/deprovisioning/runs/{scoped.pk}/").content.decode()
    assert (
        f'not sent again: <a href="/deprovisioning/runs/{whole.pk}/#delivery-{first.pk}">' in page
    )


def test_when_grace_ends_under_both_runs_each_holder_is_sent_one_revocation(
    manager, estate, directory, flaky_receiver, pinned_clock
):
    contract = estate["contract"]
    contract.grace_days = 5
    contract.save(update_fields=["grace_days"])
    key = estate["entitlements"][1]
    scoped = services.entitlement_deprovision(
        actor=manager, entitlement_id=key.pk, reason=BREACH, on=timezone.localdate()
    )
    whole = terminate(manager, contract)
    assert {scoped.pk: "executing", whole.pk: "executing"} == dict(
        DeprovisioningRun.objects.values_list("pk", "state")
    )

    pinned_clock.shift(timedelta(days=5))
    deprovisioning_nightly.delay()

    assert set(DeprovisioningRun.objects.values_list("state", flat=True)) == {"completed"}
    key_deliveries = Delivery.objects.filter(entitlement=key)
    assert set(key_deliveries.values_list("state", flat=True)) == {"confirmed"}
    [covered] = key_deliveries.exclude(covered_by=None)
    assert covered.covered_by in key_deliveries and covered.attempts == 0
    assert revokes_applied(flaky_receiver, "acct-7") == 1
    assert flaky_receiver.holders["acct-7"] is False
    assert directory.user(estate["user"]).active is False


def test_a_holder_turned_back_on_since_the_first_run_is_sent_the_revocation_again(
    manager, estate, directory
):
    seats = estate["entitlements"][0]
    later = timezone.localdate() + timedelta(days=14)
    scoped = services.entitlement_deprovision(
        actor=manager, entitlement_id=seats.pk, reason=BREACH, on=timezone.localdate(),
        effective_date=later,
    )  # fmt: skip
    terminate(manager, estate["contract"])
    directory.set_active(estate["user"], True)  # behind our back, after the confirmation

    services.run_execute(actor=manager, run_id=scoped.pk, reason="Due now: the contract ended",
                         on=timezone.localdate())  # fmt: skip

    [delivery] = DeprovisioningRun.objects.get(pk=scoped.pk).deliveries.all()
    # The read-back disagreed with the earlier confirmation, so it was sent, not covered.
    assert (delivery.state, delivery.covered_by_id, delivery.attempts) == ("confirmed", None, 1)
    assert directory.user(estate["user"]).active is False
