"""In Chromium: a customer pauses a line and sees the scheduled pause and resume."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from credits import services
from credits.models import ChangeRequest, Credit
from tests.support import paid_contract, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_pauses_a_line_and_sees_the_pause_and_resume_scheduled(
    browser_page, customer_user, customer_a, analyst, period, today
):
    contract = paid_contract(customer_a, period=period)
    start, resume = today + timedelta(days=2), today + timedelta(days=9)
    page = browser_page

    sign_in(page, username=customer_user.username)
    page.get_by_role("link", name="Request a change").first.click()
    page.get_by_text("Pause", exact=True).click()
    page.get_by_label("From which day?", exact=True).fill(start.isoformat())
    page.get_by_label(re.compile("Back from which day")).fill(resume.isoformat())
    page.get_by_text("Credit note against the account").click()
    page.get_by_role("button", name="See the quote").click()
    expect(page.locator(".quote")).to_contain_text("paused for 7 of")
    page.get_by_role("button", name="Request this credit").click()
    expect(page.locator(".status-line")).to_contain_text("Awaiting approval")
    change = ChangeRequest.objects.get(contract=contract)
    assert (change.intent, change.resume_date) == ("pause", resume)

    credit = Credit.objects.get(change=change)
    credit = services.credit_approve(actor=analyst, credit_id=credit.pk, reason="Checked")
    assert credit.status == Credit.Status.ISSUED  # one step under the reference policy

    page.reload()
    scheduled = page.locator("#scheduled")
    expect(scheduled).to_contain_text(f"Paused from {start:%-d %b %Y}")
    expect(scheduled).to_contain_text(f"Resumes on {resume:%-d %b %Y}")
    page.goto(f"/portal/contracts/{contract.pk}/")
    expect(page.locator("#scheduled")).to_contain_text(f"Resumes on {resume:%-d %b %Y}")
