"""The credits flow end to end in Chromium: a customer asks, two people approve, the customer
downloads the credit note, and its text (read back with pdftotext) has the number and amount."""

import re
import subprocess

import pytest
from playwright.sync_api import expect

from credits.models import Credit, CreditPolicyVersion
from credits.rules import DEFAULT_RULES
from tests.support import paid_contract, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_step_policy(period):
    # Whatever today's date does to the amount, an analyst and an approver both decide.
    rules = {**DEFAULT_RULES, "approval_steps": [
        {"role": "finance_analyst", "threshold": "0"},
        {"role": "finance_approver", "threshold": "0"},
    ]}  # fmt: skip
    return CreditPolicyVersion.objects.create(
        number=2, status="published", effective_from=period[0], rules=rules,
        title="Credit policy", introduction="Two approvals for every credit.",
    )  # fmt: skip


def _sign_out(page):
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


def _approve_in_finance(page, *, username, credit, last):
    sign_in(page, username=username)
    page.goto("/finance/")
    page.get_by_role("link", name=str(credit)).click()
    if last:
        # Approve and issue asks first, stating the credit note's amount.
        page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Approve and issue" if last else "Approve").click()
    expect(page.locator(".messages")).to_be_visible()
    _sign_out(page)


def test_customer_requests_two_people_approve_and_the_customer_downloads_the_note(
    browser_page,
    customer_user,
    customer_a,
    analyst,
    approver,
    two_step_policy,
    period,
    tmp_path,
):
    paid_contract(customer_a, period=period)
    page = browser_page

    sign_in(page, username=customer_user.username)
    page.get_by_role("link", name="Request a change").first.click()
    page.get_by_text("Downgrade", exact=True).click()
    page.get_by_label(re.compile("after the change")).fill("20")
    page.get_by_text("Credit note against the account").click()
    page.get_by_role("button", name="See the quote").click()
    expect(page.locator(".quote")).to_contain_text("30 of 50 seats released")
    quoted = page.locator(".quote td.total").inner_text()
    page.get_by_role("button", name="Request this credit").click()
    expect(page.locator(".status-line")).to_contain_text("Awaiting approval")
    credit = Credit.objects.get()
    assert [s.role for s in credit.steps.all()] == ["finance_analyst", "finance_approver"]
    _sign_out(page)

    _approve_in_finance(page, username=analyst.username, credit=credit, last=False)
    _approve_in_finance(page, username=approver.username, credit=credit, last=True)

    credit.refresh_from_db()
    assert credit.status == Credit.Status.ISSUED
    sign_in(page, username=customer_user.username)
    page.get_by_role("link", name="Credits", exact=True).click()
    page.get_by_role("link", name=credit.number).click()
    expect(page.locator(".status-line")).to_contain_text(f"Issued as {credit.number}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the credit note (PDF)").click()
    pdf = tmp_path / "note.pdf"
    download.value.save_as(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert credit.number in text
    assert quoted.replace("USD ", "") in text
    assert "Credit policy v2" in text and "credit/v2" not in text
