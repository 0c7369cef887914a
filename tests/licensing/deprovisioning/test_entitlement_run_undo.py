"""A run for one entitlement, undone and told: rollback restores that entitlement (and only it)
at every system; the customer's notice names only it. Real SCIM server and webhook receiver."""

import shutil
import subprocess

import pytest
from django.core import mail
from django.utils import timezone

from licensing.deprovisioning import reconciliation, services
from licensing.deprovisioning.models import Delivery, DeprovisioningRun
from licensing.models import Entitlement
from licensing.services import entitlement_transition

pytestmark = pytest.mark.django_db(transaction=True)

BREACH = "Breach case 7: kept adding users after two warnings"


def deprovision(manager, entitlement) -> DeprovisioningRun:
    run = services.entitlement_deprovision(
        actor=manager, entitlement_id=entitlement.pk, reason=BREACH, on=timezone.localdate()
    )
    return DeprovisioningRun.objects.get(pk=run.pk)


def roll_back(manager, manager2, run) -> DeprovisioningRun:
    reconciliation.rollback_request(actor=manager, run_id=run.pk, reason="Customer paid up")
    return reconciliation.rollback_approve(
        actor=manager2, run_id=run.pk, reason="Checked the payment", on=timezone.localdate()
    )


def test_rolling_back_a_one_role_run_restores_that_role_and_nothing_else(
    manager, manager2, estate, directory, flaky_receiver
):
    seats, key, role = estate["entitlements"]
    # The key was taken away by hand, before and apart from the run: it must stay away.
    entitlement_transition(actor=manager, entitlement_id=key.pk, transition="revoke",
                           reason="Returned by the customer")  # fmt: skip
    run = deprovision(manager, role)
    assert run.state == "completed"
    assert estate["member"] not in directory.members(estate["group"])
    seats_renewal = Entitlement.objects.get(pk=seats.pk).renewal

    run = roll_back(manager, manager2, run)

    assert run.state == "rolled_back"
    restores = Delivery.objects.filter(run=run, action="restore")
    assert [(d.entitlement_id, d.state) for d in restores] == [(role.pk, "confirmed")]
    assert estate["member"] in directory.members(estate["group"])
    states = dict(Entitlement.objects.values_list("pk", "state"))
    assert (states[role.pk], states[seats.pk], states[key.pk]) == ("restored", "active", "revoked")
    assert Entitlement.objects.get(pk=role.pk).renewal == role.renewal  # renewal given back
    assert Entitlement.objects.get(pk=seats.pk).renewal == seats_renewal
    assert directory.user(estate["user"]).active is True
    # The license server heard nothing of the role's run, either way.
    assert not any(
        e["data"]["entitlement"] == str(role.pk) for e in flaky_receiver.deliveries.values()
    )


def test_rolling_back_a_one_key_run_restores_it_at_the_license_server(
    manager, manager2, estate, flaky_receiver
):
    key = estate["entitlements"][1]
    run = deprovision(manager, key)
    assert flaky_receiver.holders["acct-7"] is False

    run = roll_back(manager, manager2, run)

    assert run.state == "rolled_back"
    assert flaky_receiver.holders["acct-7"] is True
    assert [e["type"] for e in flaky_receiver.deliveries.values()] == [
        "entitlement.revoked", "entitlement.restored",
    ]  # fmt: skip


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")
def test_the_notice_of_a_one_entitlement_run_names_only_that_entitlement(manager, estate):
    seats, key, role = estate["entitlements"]

    run = deprovision(manager, key)

    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=bytes(run.notice_pdf),
                          capture_output=True, check=True).stdout.decode()  # fmt: skip
    assert key.name in text and "License server" in text
    for other in (seats.name, role.name, "Directory", "Roles"):
        assert other not in text, other
    contract = estate["contract"].number
    assert f"Notice of withdrawal: {key.name}" in text
    assert f"The rest of contract {contract} is not affected" in text
    assert "Notice of termination" not in text
    [notice] = [m for m in mail.outbox if run.notice_sha256 in m.body]
    assert notice.subject.startswith(f"{key.name} under contract {contract} is withdrawn")
    assert "ends" not in notice.subject


def test_the_notice_mail_carries_the_stored_pdf(manager, estate):
    run = deprovision(manager, estate["entitlements"][1])

    [notice] = [m for m in mail.outbox if run.notice_sha256 in m.body]
    [(filename, content, mimetype)] = notice.attachments
    assert (filename, mimetype) == (f"notice-{estate['contract'].number}-run-{run.pk}.pdf",
                                    "application/pdf")  # fmt: skip
    assert content == bytes(run.notice_pdf)
