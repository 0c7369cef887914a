"""A manager terminates a contract in a real browser: the dry run, a hold, its lift by another."""

import re

import pytest
from playwright.sync_api import expect

from audit.models import AuditEvent
from licensing.deprovisioning.models import Delivery, DeprovisioningRun
from tests.support import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HOLD_REASON = "Litigation hold requested by legal, matter 2026-114"


def test_a_hold_stops_the_run_until_a_second_manager_lifts_it_and_every_system_confirms(
    browser_page, manager, manager2, estate, directory, flaky_receiver
):
    page = browser_page
    contract = estate["contract"]
    page.on("dialog", lambda dialog: dialog.accept())  # the confirmations of consequences
    sign_in(page, username=manager.username)
    page.goto(contract.get_absolute_url())

    panel = page.locator("#deprovisioning")
    panel.get_by_text("Place a hold…").click()
    panel.get_by_label("Kind of hold").select_option("legal_hold")
    panel.locator("form[action$='/holds/']").get_by_label("Why?").fill(HOLD_REASON)
    panel.get_by_role("button", name="Place the hold").click()
    expect(page.get_by_role("status")).to_contain_text("Legal hold placed")
    expect(panel.locator("tr", has_text=HOLD_REASON)).to_contain_text("In force")

    page.get_by_role("link", name="Terminate…").click()
    plan = page.locator("#plan")
    # Holders by name (the SCIM userName, the group's displayName), not by SCIM id.
    for holder, action in [("alice", "Deactivate the user"),
                           ("bob in admins", "Remove from the group"),
                           ("acct-7", "Send entitlement.revoked")]:  # fmt: skip
        expect(plan.locator("tr", has_text=holder)).to_contain_text(action)
    expect(plan).to_contain_text("the run will wait on hold")
    page.get_by_label("Why?").fill("Customer terminated for convenience")
    page.get_by_role("button", name="Terminate and deprovision").click()

    expect(page).to_have_url(re.compile(r"/deprovisioning/runs/\d+/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("On hold")
    expect(page.locator("#actions")).to_contain_text("waits on a hold; lift the hold first")
    assert directory.user(estate["user"]).active is True
    page.goto(contract.get_absolute_url())
    expect(panel).to_contain_text("Somebody other than the person who placed a hold must lift it.")

    page.get_by_role("button", name="Log out").click()
    sign_in(page, username=manager2.username)
    page.goto(contract.get_absolute_url())
    panel.get_by_text("Lift…").click()
    panel.locator("form[action*='/lift/']").get_by_label("Why?").fill("Matter settled")
    panel.get_by_role("button", name="Lift the hold").click()
    expect(page.get_by_role("status")).to_contain_text("is lifted")
    panel.get_by_role("link", name=re.compile(r"^Run \d+$")).click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Completed")
    expect(page.locator("dl.facts")).to_contain_text("3 of 3 confirmed by read-back")
    for row in page.locator("#deliveries tbody tr").all():
        expect(row).to_contain_text("Confirmed")
    run = DeprovisioningRun.objects.get(contract=contract)
    assert run.state == DeprovisioningRun.State.COMPLETED
    assert set(run.deliveries.values_list("state", flat=True)) == {Delivery.State.CONFIRMED}
    assert directory.user(estate["user"]).active is False
    assert estate["member"] not in directory.members(estate["group"])
    assert flaky_receiver.holders["acct-7"] is False
    lift = AuditEvent.objects.get(action="deprovisioning_hold.lift")
    assert lift.actor_username == manager2.username
