"""A destructive action asks first, in Chromium: terminating a contract states what it does;
dismissing the question changes nothing, accepting it terminates the contract."""

import pytest
from playwright.sync_api import expect

from licensing.models import Contract
from tests.support import paid_contract, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_confirmation_dialog_guards_terminate(browser_page, manager, customer_a, period):
    contract = paid_contract(customer_a, period=period)
    page = browser_page
    sign_in(page, username=manager.username)
    questions = []

    def answer(accept):
        def handle(dialog):
            questions.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        page.once("dialog", handle)

    page.goto(f"/deprovisioning/terminate/?contract={contract.pk}")
    page.get_by_label("Why?").fill("Customer left us")
    terminate = page.get_by_role("button", name="Terminate and deprovision")
    answer(accept=False)
    terminate.click()

    expect(terminate).to_be_visible()
    assert len(questions) == 1
    assert questions[0].startswith(f"Terminate {contract.number} of Northwind Traders?")
    assert "1 entitlement is revoked" in questions[0]
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ACTIVE

    answer(accept=True)
    terminate.click()

    page.wait_for_url(lambda url: "/terminate/" not in url)
    assert len(questions) == 2
    contract.refresh_from_db()
    assert contract.status == Contract.Status.TERMINATED
