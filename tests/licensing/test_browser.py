import re

import pytest
from playwright.sync_api import expect

from audit.models import AuditEvent
from licensing.models import Entitlement, LedgerEntry
from licensing.roles import Role
from tests.factories import (
    ContractFactory,
    CustomerFactory,
    EntitlementFactory,
    UserFactory,
    member_of,
)
from tests.support import sign_in

# Live-server tests commit for real. tests/conftest.py reinstalls the roles and policies that a
# flush removes; serialized_rollback would clash with the content types post_migrate recreates.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "Invoice 4711 is 30 days overdue"


def test_manager_suspends_an_entitlement_and_sees_it_in_the_history(browser_page):
    page = browser_page
    manager = UserFactory(username="manager", role=Role.ACCOUNT_MANAGER)
    contract = ContractFactory(customer=CustomerFactory(name="Northwind Traders"))
    entitlement = EntitlementFactory(contract=contract, name="Named-user seats", quantity=1200)

    sign_in(page, username="manager")
    expect(page).to_have_url(re.compile(r"/dashboard/$"))
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Contracts").click()
    page.get_by_role("link", name=contract.number, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(contract.number)
    row = page.locator(f"#entitlement-{entitlement.pk}")
    expect(row).to_contain_text("1,200")
    row.get_by_text("Change state…").click()
    row.get_by_label("Why?").fill(REASON)
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    row.get_by_role("button", name="Suspend", exact=True).click()

    expect(page).to_have_url(re.compile(rf"/contracts/{contract.pk}/$"))
    expect(page.get_by_role("status")).to_contain_text(REASON)
    assert asked and "Named-user seats" in asked[0], asked  # suspending asks first, naming it
    latest = page.locator("#activity .timeline li").first
    expect(latest).to_contain_text("Named-user seats is now Suspended")
    expect(latest).to_contain_text(REASON)
    row.get_by_role("link", name="Named-user seats").click()
    newest = page.locator("#history tbody tr").first
    expect(newest).to_contain_text("Suspended")
    expect(newest).to_contain_text(REASON)
    expect(newest).to_contain_text(manager.get_full_name())

    entitlement.refresh_from_db()
    assert entitlement.state == Entitlement.State.SUSPENDED
    entry = LedgerEntry.objects.filter(entitlement=entitlement).latest("id")
    assert (entry.action, entry.state_after, entry.reason, entry.actor) == (
        "suspend",
        Entitlement.State.SUSPENDED,
        REASON,
        manager,
    )
    event = AuditEvent.objects.filter(action="entitlement.suspend").get()
    assert (event.object_id, event.actor_username, event.reason) == (
        str(entitlement.pk),
        "manager",
        REASON,
    )


def test_customer_lands_on_the_portal_and_sees_only_their_own_contracts(browser_page):
    page = browser_page
    ours, theirs = CustomerFactory(name="Northwind Traders"), CustomerFactory(name="Globex")
    our_contract = ContractFactory(customer=ours)
    their_contract = ContractFactory(customer=theirs)
    member_of(UserFactory(username="nina"), ours)

    sign_in(page, username="nina")

    expect(page).to_have_url(re.compile(r"/portal/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Northwind Traders")
    expect(page.get_by_role("link", name=our_contract.number)).to_be_visible()
    expect(page.locator("main")).not_to_contain_text(their_contract.number)
    page.goto(f"/portal/contracts/{their_contract.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
    expect(page.locator("main")).not_to_contain_text(their_contract.number)
