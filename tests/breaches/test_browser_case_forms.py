"""The case page's own forms in a real browser, as an account manager uses them: hand the case
over, write staff notes, add a milestone (first with a date already past) and mark it met,
adjust the true-up (first with a negative amount), drop an option and put it back, log a call
with a file, and, on a willful case past its final deadline, ask for deprovisioning and have a
second person approve it. Screenshots at 1280 and 390 px go to test-artifacts/breaches/."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from breaches.models import BreachCase
from breaches.services import breach_case_classify
from breaches.tasks import process_milestones
from licensing.models import Entitlement
from licensing.roles import Role
from tests.breaches.support import current_case, move
from tests.breaches.test_browser import shoot
from tests.factories import UserFactory
from tests.support import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def accepting(page) -> list:
    dialogs = []

    def accept(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    return dialogs


def managers():
    maya = UserFactory(username="manager", role=Role.ACCOUNT_MANAGER, first_name="Maya",
                       last_name="Okafor", email="maya@example.com")  # fmt: skip
    tomas = UserFactory(username="tomas", role=Role.ACCOUNT_MANAGER, first_name="Tomas",
                        last_name="Berg", email="tomas@example.com")  # fmt: skip
    return maya, tomas


def open_form(page, scope: str, summary: str):
    page.locator(scope).locator("summary", has_text=summary).first.click()
    return page.locator(scope).locator("details[open] form").first


def test_a_manager_works_a_confirmed_case_with_the_page_forms(
    browser_page, customer_a, today, tmp_path
):
    page = browser_page
    dialogs = accepting(page)
    maya, _tomas = managers()
    case = move(maya, current_case(maya, customer_a), "review", "confirm", on=today)
    sign_in(page, username="manager")
    page.goto(f"/breaches/cases/{case.pk}/")

    # Hand the case over.
    form = open_form(page, "#evidence", "Assign an owner")
    form.get_by_label("Owner").select_option(label="Tomas Berg")
    form.get_by_label("Why?").fill("Tomas knows the customer")
    form.get_by_role("button", name="Assign").click()
    expect(page.get_by_role("status")).to_contain_text("is now Tomas Berg's")
    expect(page.locator("#evidence")).to_contain_text("Tomas Berg")

    # Staff notes.
    form = open_form(page, "#staff-notes", "Write notes")
    form.get_by_label("Staff notes").fill("Their CFO is new; be gentle.")
    form.get_by_role("button", name="Save the notes").click()
    expect(page.get_by_role("status")).to_contain_text("Staff notes saved.")
    expect(page.locator("#staff-notes")).to_contain_text("Their CFO is new; be gentle.")

    # A milestone: a date already past is refused at the top of the form and by the field.
    form = open_form(page, "#milestones", "Add a milestone")
    form.get_by_label("What is due").fill("Send the user list")
    form.get_by_label("Due on").fill(today.isoformat())
    form.get_by_label("Why?").fill("Agreed on the call")
    form.get_by_role("button", name="Add the milestone").click()
    form = page.locator("#milestone-add form")
    expect(form.locator(".form-errors")).to_contain_text("Due on: A milestone is due after today.")
    expect(form.locator(".field-error")).to_have_text("A milestone is due after today.")
    shoot(page, "case-form-error")
    form.get_by_label("Due on").fill((today + timedelta(days=7)).isoformat())
    form.get_by_role("button", name="Add the milestone").click()
    expect(page.get_by_role("status")).to_contain_text("Milestone set: Send the user list by")
    form = open_form(page, "#milestones", "Mark met")
    form.get_by_role("button", name="Mark “Send the user list” met").click()
    expect(page.get_by_role("status")).to_contain_text("Milestone met: Send the user list.")

    # The true-up adjusted: a negative amount first.
    form = open_form(page, "#options tr.has-why:has-text('True-up')", "Adjust")
    form.get_by_label("License fees").fill("-5")
    form.get_by_label("Why?").fill("Goodwill")
    form.get_by_role("button", name="Save the change").click()
    form = page.locator("#options details[open] form")
    expect(form.locator(".form-errors")).to_contain_text("An amount cannot be negative.")
    form.get_by_label("License fees").fill("200.00")
    form.get_by_role("button", name="Save the change").click()
    expect(page.get_by_role("status")).to_contain_text("True-up adjusted.")
    expect(page.locator("#options")).to_contain_text("USD 200.00")

    # An option dropped, after the page says what that means, and put back.
    form = open_form(page, "#options tr.has-why:has-text('Grace extension')", "Drop")
    expect(form).to_contain_text("will not see this option or be able to choose it")
    form.get_by_label("Why?").fill("Not for this customer")
    form.get_by_role("button", name="Drop it from the offer").click()
    expect(page.get_by_role("status")).to_contain_text("Grace extension dropped from the offer.")
    assert "Drop the grace extension from the offer?" in dialogs[-1]
    form = open_form(page, "#options tr.has-why:has-text('Grace extension')", "Put back")
    form.get_by_role("button", name="Put it back").click()
    expect(page.get_by_role("status")).to_contain_text("Grace extension back in the offer.")

    # A call logged with a file, which downloads as kept.
    pdf = tmp_path / "users.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% user list\n")
    form = open_form(page, "#communications", "Log a call or meeting")
    form.get_by_label("When").fill(f"{today - timedelta(days=1):%Y-%m-%d}T10:30")
    form.get_by_label("About").fill("User list")
    form.get_by_label("What was said").fill("They sent the list of users.")
    form.get_by_label("Attachment").set_input_files(str(pdf))
    form.get_by_role("button", name="Log it").click()
    expect(page.get_by_role("status")).to_contain_text("Call logged: User list.")
    with page.expect_download() as download:
        page.locator("#communications").get_by_role("link", name="users.pdf").click()
    assert download.value.suggested_filename == "users.pdf"
    shoot(page, "case-forms")

    case.refresh_from_db()
    assert case.owner.username == "tomas" and case.staff_notes
    assert case.options.get(kind="true_up").amount == 200


def test_deprovisioning_is_asked_for_and_approved_by_a_second_person(
    browser_page, customer_a, today, pinned_clock
):
    page = browser_page
    dialogs = accepting(page)
    maya, _tomas = managers()
    case = current_case(maya, customer_a)
    breach_case_classify(actor=maya, case_id=case.pk, classification="willful",
                         rationale="Kept adding users after two warnings")  # fmt: skip
    case = move(maya, case, "review", "confirm", "offer", on=today)
    case = move(maya, case, "agree", option="true_up", on=today)
    final = case.milestones.get(is_final=True)
    pinned_clock.shift(timedelta(days=(final.due_on - today).days + 1))
    process_milestones.delay().get()

    sign_in(page, username="manager")
    page.goto(f"/breaches/cases/{case.pk}/")
    form = open_form(page, "#deprovisioning", "Ask to deprovision")
    form.get_by_label("Why?").fill("No reply to three reminders")
    form.get_by_role("button", name="Ask for approval").click()
    expect(page.get_by_role("status")).to_contain_text("a second person must approve it")
    assert "Once a second person approves" in dialogs[-1]
    expect(page.locator("#deprovisioning")).to_contain_text("A second person must approve")
    page.get_by_role("button", name="Log out").click()

    sign_in(page, username="tomas")
    page.goto(f"/breaches/cases/{case.pk}/")
    form = open_form(page, "#deprovisioning", "Approve deprovisioning")
    form.get_by_label("Why?").fill("Agreed: nothing else worked")
    form.get_by_role("button", name="Approve: take back").click()
    expect(page.get_by_role("status")).to_contain_text("deprovisioning approved")
    assert "This cannot be undone from the case." in dialogs[-1]
    expect(page.locator("#deprovisioning")).to_contain_text("was taken back")
    shoot(page, "case-deprovisioned")

    assert Entitlement.objects.get(pk=case.entitlement_id).state in ("grace", "revoked")
    assert BreachCase.objects.get(pk=case.pk).deprovision_approved_by.username == "tomas"
