"""A destructive action asks first, in Chromium: terminating a contract states what it does;
dismissing the question changes nothing, accepting it terminates the contract."""

import pytest
from playwright.sync_api import expect

from audit.models import AuditEvent
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

    page.goto(f"/contracts/{contract.pk}/")
    menu = page.locator("details.action-menu", has_text="Change contract status…")
    menu.get_by_text("Change contract status…").click()
    menu.get_by_label("Why?").fill("Customer left us")
    terminate = menu.get_by_role("button", name="Terminate", exact=True)
    answer(accept=False)
    terminate.click()

    expect(terminate).to_be_visible()
    assert len(questions) == 1
    assert questions[0].startswith(f"Terminate contract {contract.number} of Northwind Traders")
    assert "cannot be undone" in questions[0]
    contract.refresh_from_db()
    assert contract.status == Contract.Status.ACTIVE
    assert not AuditEvent.objects.filter(action="contract.terminate").exists()

    answer(accept=True)
    terminate.click()

    expect(page.get_by_role("status")).to_contain_text(f"{contract.number} is now terminated")
    assert len(questions) == 2
    contract.refresh_from_db()
    assert contract.status == Contract.Status.TERMINATED
