"""The portal on a phone (390 px wide), in Chromium: the navigation folds behind a Menu button
and each credit is a block of labelled rows whose state and amount stay in view."""

import pytest
from playwright.sync_api import expect

from credits import services
from licensing.pricing.wording import money_text
from tests.support import downgrade, paid_contract, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_the_portal_at_390_px_shows_each_credits_state_and_amount(
    browser_page, customer_user, customer_a, analyst, period, today
):
    issued = downgrade(customer_user, paid_contract(customer_a, period=period), 40,
                       effective=today).credit  # fmt: skip
    issued = services.credit_approve(actor=analyst, credit_id=issued.pk, reason="Checked")
    pending = downgrade(customer_user, paid_contract(customer_a, period=period), 30,
                        effective=today).credit  # fmt: skip
    page = browser_page
    page.set_viewport_size(PHONE)
    sign_in(page, username=customer_user.username)

    page.goto("/portal/credits/")

    nav = page.get_by_role("navigation", name="Main")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_be_visible()
    expect(nav.get_by_role("link", name="Statement")).to_be_hidden()
    rows = page.locator("tr[data-credit]")
    expect(rows).to_have_count(2)
    for credit, state in ((issued, "Issued"), (pending, "Awaiting approval")):
        row = rows.filter(has_text=credit.number or f"Request {credit.pk}")
        amount = money_text(credit.amount, "USD")
        for cell, text in ((row.locator("[data-state]"), state),
                           (row.locator("[data-amount]"), amount)):  # fmt: skip
            expect(cell).to_be_visible()
            expect(cell).to_contain_text(text)
            box = cell.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (text, box)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    nav.get_by_role("link", name="Statement").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("statement")
