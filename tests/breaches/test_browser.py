"""A breach case from detection to resolution, in a real browser: the manager reviews, confirms
and offers; the customer reads the proposal and agrees to the true-up; the manager resolves once
compliant usage is reported. Screenshots of each page at 1280 and 390 px go to
test-artifacts/breaches/ for a person to look at."""

import re
import subprocess
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from audit.models import AuditEvent
from breaches.models import BreachCase, BreachNotice
from licensing.pricing.calendar import add_months
from licensing.roles import Role
from licensing.templatetags.licensing_tags import money
from tests.breaches.support import detected_case, report_usage
from tests.conftest import ARTIFACTS
from tests.factories import UserFactory, member_of
from tests.support import paid_contract, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
S = BreachCase.State
SHOTS = ARTIFACTS / "breaches"


def shoot(page, name: str) -> None:
    """The page as it stands, at desktop width and at a phone's."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(300)  # charts draw after DOMContentLoaded
    page.screenshot(path=str(SHOTS / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"{name}-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def pdf_text(download, tmp_path) -> str:
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True)  # fmt: skip
    return re.sub(r"\s+", " ", done.stdout)


def make_move(page, label: str, reason: str, dialogs: list) -> None:
    """Open the move's panel, give the reason, submit, and accept what the dialog says."""
    actions = page.locator("#actions")
    actions.locator("summary", has_text=label).click()
    form = actions.locator("details[open] form")
    form.get_by_label("Why?").fill(reason)
    form.get_by_role("button", name=label).click()
    page.wait_for_load_state()
    assert dialogs, f"{label} asked for no confirmation"


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_load_state()


def test_a_case_goes_from_detection_to_resolution_with_the_customer(
    browser_page, customer_a, today, tmp_path
):
    page = browser_page
    dialogs = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    manager = UserFactory(username="manager", role=Role.ACCOUNT_MANAGER, first_name="Maya",
                          last_name="Okafor", email="maya@example.com")  # fmt: skip
    customer = UserFactory(username="customer1", first_name="Nina", email="nina@example.com")
    member_of(customer, customer_a)
    # A monthly period under way, paid: 50 seats at 31.00. Sixty seats in use on three days
    # of it, reported by the licence server and detected the night after.
    period = (today - timedelta(days=15), add_months(today - timedelta(days=15), 1))
    contract = paid_contract(customer_a, period=period, seats=50, unit_price="31.00")
    contract.account_manager = manager
    contract.save()
    entitlement = contract.entitlements.get()
    case = detected_case(manager, entitlement, start=today - timedelta(days=10), peak=60,
                         days=3, on=today - timedelta(days=7))  # fmt: skip

    # The manager: queue, case, review, confirm, offer, proposal issued.
    sign_in(page, username="manager")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Breach cases").click()
    shoot(page, "queue")
    page.get_by_role("link", name=f"Case {case.pk}", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Case {case.pk}")
    expect(page.locator("#evidence")).to_contain_text("60 seats")
    shoot(page, "case-detected")
    make_move(page, "Start review", "Sixty seats on three days; checking", dialogs)
    expect(page.get_by_role("status")).to_contain_text("is now under review")
    assert "The customer is not told yet." in dialogs[-1]
    make_move(page, "Confirm the breach", "The licence server's figures are right", dialogs)
    expect(page.get_by_role("status")).to_contain_text("is now confirmed")
    expect(page.locator("#options")).to_contain_text("True-up")
    shoot(page, "case-confirmed")
    make_move(page, "Offer remediation", "Discussed on the phone", dialogs)
    expect(page.get_by_role("status")).to_contain_text("is now remediation offered")
    assert "Northwind Traders" in dialogs[-1]
    page.locator("#notices").get_by_label("Issue a notice").select_option("remediation_proposal")
    page.locator("#notices").get_by_role("button", name="Issue PDF").click()
    expect(page.get_by_role("status")).to_contain_text("Remediation proposal issued")
    shoot(page, "case-offered")
    true_up = money(case.options.get(kind="true_up").amount, "USD")
    log_out(page)

    # The customer: the proposal in the portal, read as a PDF, and the true-up chosen.
    sign_in(page, username="customer1")
    expect(page).to_have_url(re.compile(r"/portal/$"))
    page.get_by_role("link", name="Usage cases").click()
    shoot(page, "portal-cases")
    page.get_by_role("link", name=entitlement.name).click()
    expect(page.locator("#option-true_up")).to_contain_text(true_up)
    shoot(page, "portal-case-offered")
    with page.expect_download() as download:
        page.locator("#notices").get_by_role("link", name="Remediation proposal").click()
    text = pdf_text(download.value, tmp_path)
    assert "Proposal to return to compliance" in text
    assert "50 seats" in text and "60 seats, 10 above the entitlement" in text
    assert f"True-up {true_up}" in text and "Maya Okafor" in text
    page.locator("#option-true_up").get_by_role("button", name="Choose the true-up").click()
    expect(page.get_by_role("status")).to_contain_text("you chose the true-up")
    assert true_up in dialogs[-1]
    shoot(page, "portal-case-agreed")
    log_out(page)

    # The manager: remediation under way; resolvable once compliant usage arrives.
    sign_in(page, username="manager")
    page.goto(f"/breaches/cases/{case.pk}/")
    make_move(page, "Start remediation", "True-up invoiced", dialogs)
    expect(page.get_by_role("status")).to_contain_text("is now in remediation")
    page.locator("#actions summary", has_text="Resolve").click()
    expect(page.locator("#actions details[open] .refusal")).to_contain_text("Not yet resolvable")
    report_usage(manager, entitlement, {today: 48}, on=today)
    page.reload()
    make_move(page, "Resolve", "Usage back within the 50 seats", dialogs)
    expect(page.get_by_role("status")).to_contain_text("is now resolved")
    page.locator("#notices").get_by_role("button", name="Issue PDF").click()
    expect(page.get_by_role("status")).to_contain_text("Resolution confirmation issued")
    shoot(page, "case-resolved")
    notice = BreachNotice.objects.filter(case=case, kind="resolution_confirmation").get()
    with page.expect_download() as download:
        page.locator("#notices").get_by_role("link", name="Download PDF").first.click()
    text = pdf_text(download.value, tmp_path)
    assert "Confirmation of resolution" in text and "48 seats" in text

    case.refresh_from_db()
    assert case.state == S.RESOLVED and case.agreed_by == customer
    assert case.agreed_option.kind == "true_up"
    assert notice.sha256 and BreachNotice.objects.filter(case=case).count() == 2
    moves = ["review", "confirm", "offer", "agree", "start_remediation", "resolve"]
    assert [
        AuditEvent.objects.filter(action=f"breach_case.{move}", object_id=str(case.pk)).count()
        for move in moves
    ] == [1] * len(moves)
