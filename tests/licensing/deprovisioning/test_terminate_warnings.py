"""The terminate page says what will happen before anything does: how much is taken back,
where, with what grace, and what cannot be taken back now (an entitlement on hold ends the
run ``failed``), against the real SCIM server and webhook receiver."""

import html
import re

import pytest
from django.utils import timezone

from licensing.deprovisioning import services
from licensing.deprovisioning.models import DeprovisioningRun
from licensing.models import Entitlement
from licensing.services import entitlement_transition
from tests.support import Snapshot

pytestmark = pytest.mark.django_db(transaction=True)

REASON = "Customer terminated for convenience, letter of 2 March"


def terminate_page(client, contract, **data):
    url = f"/deprovisioning/terminate/?contract={contract.pk}"
    today = timezone.localdate().isoformat()
    return client.post(url, {"reason": REASON, "effective_date": today, "planned_for": today,
                             **data})  # fmt: skip


def page_of(client, contract) -> str:
    response = client.get(f"/deprovisioning/terminate/?contract={contract.pk}")
    assert response.status_code == 200
    # The words a person reads: tags out (a confirm dialog's text is an attribute, kept).
    text = re.sub(r"<(?:[^>\"]|\"[^\"]*\")*>", lambda m: " ".join(re.findall(
        r'data-confirm="([^"]*)"', m.group(0))), response.content.decode())  # fmt: skip
    return " ".join(html.unescape(text).split())


def hold_entitlement(manager, entitlement) -> None:
    entitlement_transition(actor=manager, entitlement_id=entitlement.pk, transition="hold",
                           reason="Audit of the key's use under way")  # fmt: skip


@pytest.mark.django_db
def test_the_page_sums_up_how_much_is_taken_back_where_and_with_what_grace(client, manager, estate):
    contract = estate["contract"]
    contract.grace_days = 7
    contract.save(update_fields=["grace_days"])
    client.force_login(manager)

    page = page_of(client, contract)

    assert "3 entitlements taken back at Directory, License server, Roles; 7 days' grace" in page
    assert "cannot be revoked now" not in page
    assert "3 entitlements are revoked at Directory, License server, Roles." in page  # confirm


@pytest.mark.django_db
def test_an_entitlement_on_hold_is_warned_about_before_confirming_and_changes_nothing(
    client, manager, estate
):
    contract = estate["contract"]
    _seats, key, _role = estate["entitlements"]
    hold_entitlement(manager, key)
    client.force_login(manager)
    before = Snapshot(contract)

    page = page_of(client, contract)

    assert f"1 entitlement cannot be revoked now: {key.name} is on hold" in page
    assert "the run will take back everything else and then stop as failed" in page
    assert "On hold: cannot be revoked until the hold is released; the run ends failed" in page
    assert "Nothing is sent while the entitlement is on hold" in page
    # Two taken back, and the license server (the key's only system) is not among those told.
    assert "2 entitlements taken back at Directory, Roles;" in page
    assert "1 on hold cannot be revoked and the run will end failed" in page  # the confirm
    assert before.unchanged(), before.changes()


def test_confirming_despite_the_warning_ends_the_run_failed_as_it_said(client, manager, estate):
    contract = estate["contract"]
    _seats, key, _role = estate["entitlements"]
    hold_entitlement(manager, key)
    client.force_login(manager)

    terminate_page(client, contract, confirm="1")

    run = DeprovisioningRun.objects.get(contract=contract)
    assert run.state == DeprovisioningRun.State.FAILED
    assert Entitlement.objects.get(pk=key.pk).state == Entitlement.State.HELD
    assert not run.deliveries.filter(entitlement=key).exclude(state="pending").exists()


def test_an_open_run_for_one_entitlement_is_named_and_not_said_to_be_joined(
    client, manager, estate
):
    contract = estate["contract"]
    contract.grace_days = 5
    contract.save(update_fields=["grace_days"])
    key = estate["entitlements"][1]
    scoped = services.entitlement_deprovision(
        actor=manager, entitlement_id=key.pk, reason="Breach case: willful", on=timezone.localdate()
    )
    client.force_login(manager)

    page = page_of(client, contract)

    assert f"{key.name} already has its own run" in page
    assert f"(run {scoped.pk}, executing)" in page
    assert "the termination joins it" not in page
