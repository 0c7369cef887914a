"""The portal in Chromium: the calculator on the API, and a change request up to its PDF."""

import re
import subprocess

import pytest
from playwright.sync_api import expect

from credits import services
from credits.models import Credit
from tests.support import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_calculator_answers_the_example_and_puts_errors_beside_their_fields(
    browser_page, customer_user
):
    page = browser_page
    sign_in(page, username=customer_user.username)

    page.goto("/portal/credits/calculator/")

    result = page.locator("[data-result]")
    expect(result.locator(".result-total")).to_contain_text("USD 1,096.78")
    expect(result).to_contain_text("30 of 50 seats released for 16 of 31 days")
    first = page.locator(".calc-line").first
    first.locator('[data-name="quantity_after"]').fill("60")
    page.get_by_role("button", name="Calculate").click()
    expect(first.locator('[data-line-error="quantity_after"]')).to_contain_text("Cannot exceed")
    expect(first.locator('[data-name="quantity_after"]')).to_have_attribute("aria-invalid", "true")
    first.locator('[data-name="quantity_after"]').fill("20")
    page.get_by_role("button", name="+ Add a line").click()
    added = page.locator(".calc-line").last
    added.locator('[data-name="basis"]').select_option("usage")
    added.locator('[data-name="amount_paid"]').fill("310.00")
    added.locator('[data-name="included_units"]').fill("100")
    added.locator('[data-name="units_used"]').fill("0")
    page.get_by_role("button", name="Calculate").click()
    # 310.00 × 16/31 = 160.00 more than the example's total.
    expect(result.locator(".result-total")).to_contain_text("USD 1,256.78")
    added.get_by_role("button", name="Remove line").click()
    page.get_by_role("button", name="Calculate").click()
    expect(result.locator(".result-total")).to_contain_text("USD 1,096.78")


def test_a_customer_requests_a_downgrade_sees_the_quote_and_downloads_the_issued_credit_note(
    browser_page, customer_user, seat_contract, analyst, tmp_path
):
    page = browser_page
    sign_in(page, username=customer_user.username)

    page.goto("/portal/credits/request/")
    page.get_by_text("Downgrade", exact=True).click()
    page.get_by_label(re.compile("after the change")).fill("20")
    page.get_by_text("Credit note against the account").click()
    page.get_by_role("button", name="See the quote").click()
    quote = page.locator(".quote")
    expect(quote).to_contain_text("30 of 50 seats released")
    total = quote.locator("td.total").inner_text()
    assert Credit.objects.count() == 0
    page.get_by_role("button", name="Request this credit").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Credit request")
    expect(page.locator(".status-line")).to_contain_text("Awaiting approval")

    credit = Credit.objects.get()
    services.credit_approve(actor=analyst, credit_id=credit.pk, reason="Checked")
    credit.refresh_from_db()
    page.reload()
    expect(page.locator(".status-line")).to_contain_text(f"Issued as {credit.number}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the credit note (PDF)").click()
    pdf = tmp_path / download.value.suggested_filename
    download.value.save_as(pdf)

    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert pdf.name == f"{credit.number}.pdf"
    assert credit.number in text
    assert total.replace("USD ", "") in text
