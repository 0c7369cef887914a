"""The case page's forms for what the services already do: adjust, drop and restore options;
add and complete milestones; hand the case over; staff notes; deprovisioning asked for and
approved; files kept with communications. Each goes through the one POST helper: errors come
back at the top of the form and by the field, and every change records who, why and the
policy."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail as sent_mail
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEvent
from breaches.models import BreachCase, Communication, CommunicationAttachment, Milestone
from breaches.services import breach_case_classify, earlier_overuse_decide
from breaches.tasks import process_milestones
from licensing.deprovisioning.models import DeprovisioningRun
from licensing.models import Entitlement
from licensing.roles import Role
from tests.breaches.support import current_case, march_case, move
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
S = BreachCase.State
PDF = b"%PDF-1.4\n% a small test file\n"


@pytest.fixture
def case(manager, customer_a, customer_user):
    return march_case(manager, customer_a)


@pytest.fixture
def confirmed(manager, case):
    return move(manager, case, "review", "confirm")


def url(case, rest=""):
    return f"/breaches/cases/{case.pk}/{rest}"


def page(client, case) -> str:
    return client.get(url(case)).content.decode()


def audited(action: str, reason: str) -> AuditEvent:
    return AuditEvent.objects.get(action=action, reason=reason)


# Options


def test_a_manager_adjusts_the_true_up_and_the_priced_amount_stays_on_record(
    client, manager, confirmed
):
    true_up = confirmed.options.get(kind="true_up")
    client.force_login(manager)

    response = client.post(url(confirmed, f"options/{true_up.pk}/adjust/"), {
        f"adjust-{true_up.pk}-amount": "200.00",
        f"adjust-{true_up.pk}-fees": str(true_up.fees),
        f"adjust-{true_up.pk}-explanation": true_up.explanation,
        f"adjust-{true_up.pk}-reason": "Goodwill: long-standing customer",
    }, follow=True)  # fmt: skip

    true_up.refresh_from_db()
    assert (true_up.amount, true_up.priced_amount) == (Decimal("200.00"), Decimal("210.00"))
    assert "True-up adjusted." in response.content.decode()
    event = audited("remediation_option.adjust", "Goodwill: long-standing customer")
    assert event.policy_version == confirmed.policy.label
    assert event.data["amount"]["to"] == "200.00"
    assert Decimal(event.data["amount"]["from"]) == Decimal("210.00")
    assert event.actor == manager


def test_a_negative_amount_is_refused_beside_its_field_and_at_the_top(client, manager, confirmed):
    true_up = confirmed.options.get(kind="true_up")
    client.force_login(manager)

    response = client.post(url(confirmed, f"options/{true_up.pk}/adjust/"), {
        f"adjust-{true_up.pk}-amount": "-5", f"adjust-{true_up.pk}-reason": "Typo",
    })  # fmt: skip

    body = response.content.decode()
    assert response.status_code == 400
    assert 'class="form-errors"' in body and "Not adjusted:" in body
    assert f'<a href="#id_adjust-{true_up.pk}-amount">License fees</a>: An amount cannot be ' \
           "negative." in body  # fmt: skip
    assert '<div class="field-error">An amount cannot be negative.</div>' in body
    true_up.refresh_from_db()
    assert true_up.amount == Decimal("210.00")


def test_only_an_option_with_a_day_offers_a_deadline(client, manager, confirmed):
    client.force_login(manager)

    body = page(client, confirmed)

    grace = confirmed.options.get(kind="grace_extension")
    true_up = confirmed.options.get(kind="true_up")
    assert f'name="adjust-{grace.pk}-deadline"' in body
    assert f'name="adjust-{true_up.pk}-deadline"' not in body


def test_dropping_an_option_asks_why_says_what_it_means_and_records_it(
    client, manager, customer_a, confirmed
):
    grace = confirmed.options.get(kind="grace_extension")
    client.force_login(manager)
    body = page(client, confirmed)
    assert (f"Drop the grace extension from the offer? {customer_a.name} will not see it or be "
            "able to choose it.").replace("'", "&#x27;") in body  # fmt: skip

    refused = client.post(url(confirmed, f"options/{grace.pk}/drop/"),
                          {f"option-{grace.pk}-reason": ""})  # fmt: skip
    assert refused.status_code == 400
    grace.refresh_from_db()
    assert grace.dropped_at is None

    client.post(url(confirmed, f"options/{grace.pk}/drop/"),
                {f"option-{grace.pk}-reason": "Not for this customer"})  # fmt: skip
    grace.refresh_from_db()
    assert grace.dropped_at is not None and grace.dropped_by == manager
    assert audited("remediation_option.drop", "Not for this customer").policy_version

    client.post(url(confirmed, f"options/{grace.pk}/restore/"),
                {f"option-{grace.pk}-reason": "They asked for it"})  # fmt: skip
    grace.refresh_from_db()
    assert grace.dropped_at is None


def test_options_are_not_adjusted_once_offered(client, manager, confirmed):
    offered = move(manager, confirmed, "offer")
    true_up = offered.options.get(kind="true_up")
    client.force_login(manager)

    response = client.post(url(offered, f"options/{true_up.pk}/adjust/"), {
        f"adjust-{true_up.pk}-amount": "1.00", f"adjust-{true_up.pk}-reason": "Late",
    }, follow=True)  # fmt: skip

    assert "Options change only before the offer" in response.content.decode()
    true_up.refresh_from_db()
    assert true_up.amount == Decimal("210.00")


# Milestones


def test_a_milestone_is_added_with_its_contacts_and_is_on_the_timeline(client, manager, case):
    client.force_login(manager)

    response = client.post(url(case, "milestones/"), {
        "milestone-title": "Send the user list", "milestone-due_on": "2099-04-01",
        "milestone-our_contact": str(manager.pk), "milestone-customer_contact_name": "Nina",
        "milestone-customer_contact_email": "nina@northwind.test",
        "milestone-reason": "Agreed on the call",
    }, follow=True)  # fmt: skip

    milestone = case.milestones.get(title="Send the user list")
    assert (milestone.our_contact, milestone.customer_contact_email) == (
        manager,
        "nina@northwind.test",
    )
    assert "Milestone set: Send the user list by 1 April 2099." in response.content.decode()
    assert case.events.filter(action="milestone_add", reason="Agreed on the call").exists()
    assert audited("milestone.create", "Agreed on the call").actor == manager


def test_a_milestone_due_today_or_before_is_refused_by_its_date(client, manager, case, today):
    client.force_login(manager)

    response = client.post(url(case, "milestones/"), {
        "milestone-title": "Too late", "milestone-due_on": today.isoformat(),
        "milestone-reason": "x",
    })  # fmt: skip

    body = response.content.decode()
    assert response.status_code == 400
    assert '<a href="#id_milestone-due_on">Due on</a>: A milestone is due after today.' in body
    assert not Milestone.objects.filter(case=case).exists()


def test_a_milestone_is_marked_met_with_a_reason(client, manager, confirmed):
    offered = move(manager, confirmed, "offer")
    milestone = offered.milestones.get()
    client.force_login(manager)

    client.post(url(offered, f"milestones/{milestone.pk}/done/"),
                {f"complete-{milestone.pk}-reason": "They chose on the phone"})  # fmt: skip

    milestone.refresh_from_db()
    assert milestone.done_on is not None and milestone.done_by == manager
    assert audited("milestone.complete", "They chose on the phone")


# Owner and notes


def test_the_case_is_handed_to_another_account_manager(client, manager, case):
    tomas = UserFactory(username="tomas", first_name="Tomas", last_name="Berg",
                        role=Role.ACCOUNT_MANAGER)  # fmt: skip
    client.force_login(manager)
    assert "Tomas Berg" in page(client, case)

    response = client.post(url(case, "assign/"), {
        "assign-owner": str(tomas.pk), "assign-reason": "Tomas knows the customer",
    }, follow=True)  # fmt: skip

    case.refresh_from_db()
    assert case.owner == tomas
    assert f"Case {case.pk} is now Tomas Berg&#x27;s." in response.content.decode()
    assert audited("breach_case.assign", "Tomas knows the customer").policy_version


def test_only_an_account_manager_can_be_the_owner(client, manager, auditor, case):
    client.force_login(manager)

    response = client.post(url(case, "assign/"),
                           {"assign-owner": str(auditor.pk), "assign-reason": "x"})  # fmt: skip

    assert response.status_code == 400
    assert "Select a valid choice." in response.content.decode()
    case.refresh_from_db()
    assert case.owner_id != auditor.pk


def test_staff_notes_are_saved_and_never_reach_the_customer(client, manager, customer_user, case):
    client.force_login(manager)

    client.post(url(case, "note/"), {"note-notes": "Their CFO is new; be gentle.",
                                     "note-reason": "After the call"})  # fmt: skip

    case.refresh_from_db()
    assert case.staff_notes == "Their CFO is new; be gentle."
    assert "Their CFO is new; be gentle." in page(client, case)
    assert audited("breach_case.note", "After the call").policy_version
    move(manager, case, "review", "confirm")
    client.force_login(customer_user)
    portal = client.get(f"/portal/breaches/cases/{case.pk}/").content.decode()
    assert "CFO" not in portal and "Staff notes" not in portal


# Deprovisioning


@pytest.fixture
def overdue_willful(manager, customer_a, pinned_clock, today):
    case = current_case(manager, customer_a)
    breach_case_classify(actor=manager, case_id=case.pk, classification="willful",
                         rationale="Kept adding users after two warnings")  # fmt: skip
    case = move(manager, case, "review", "confirm", "offer", on=today)
    case = move(manager, case, "agree", option="true_up", on=today)
    final = case.milestones.get(is_final=True)
    pinned_clock.shift(timedelta(days=(final.due_on - today).days + 1))
    process_milestones.delay().get()
    return BreachCase.objects.get(pk=case.pk)


def test_deprovisioning_is_asked_for_by_one_and_approved_by_another(
    client, manager, customer_a, overdue_willful
):
    omar = UserFactory(username="omar", role=Role.ACCOUNT_MANAGER)
    entitlement = overdue_willful.entitlement
    client.force_login(manager)
    body = page(client, overdue_willful)
    assert "Ask to deprovision" in body
    assert f"Ask to take back {entitlement.name} from {customer_a.name}?" in body

    client.post(url(overdue_willful, "deprovision/request/"),
                {"deprovision-reason": "No reply to three reminders"})  # fmt: skip
    assert Entitlement.objects.get(pk=entitlement.pk).state == "active"
    assert "A second person must approve your request." in page(client, overdue_willful)
    refused = client.post(url(overdue_willful, "deprovision/approve/"),
                          {"deprovision-reason": "Me again"}, follow=True)  # fmt: skip
    assert "Somebody other than the person who asked must approve." in refused.content.decode()

    client.force_login(omar)
    assert "Approve deprovisioning" in page(client, overdue_willful)
    client.post(url(overdue_willful, "deprovision/approve/"),
                {"deprovision-reason": "Agreed: nothing else worked"})  # fmt: skip

    # A deprovisioning run for the one entitlement (licensing carries it to the connected
    # systems); its renewal stops at once.
    run = DeprovisioningRun.objects.get(entitlement_id=entitlement.pk)
    assert (run.trigger, run.created_by) == ("breach", omar)
    assert Entitlement.objects.get(pk=entitlement.pk).renewal == "none"
    event = audited("breach_case.deprovision", "Agreed: nothing else worked")
    assert event.actor == omar and event.data["requested_by"] == manager.username
    assert event.policy_version == overdue_willful.policy.label


def test_deprovisioning_before_the_final_deadline_is_not_offered_and_says_why(
    client, manager, customer_a, today
):
    case = current_case(manager, customer_a)
    breach_case_classify(actor=manager, case_id=case.pk, classification="willful",
                         rationale="Kept adding users")  # fmt: skip
    client.force_login(manager)

    body = page(client, case)
    response = client.post(url(case, "deprovision/request/"), {"deprovision-reason": "Now"},
                           follow=True)  # fmt: skip

    assert "Ask to deprovision" not in body
    assert "Only once the case&#x27;s final deadline has passed unmet." in body
    assert "Only once the case" in response.content.decode()
    case.refresh_from_db()
    assert case.deprovision_requested_at is None


# Attachments


def test_a_call_is_logged_with_a_file_that_downloads_as_kept(client, manager, case):
    client.force_login(manager)

    client.post(url(case, "log/"), {
        "log-kind": "call", "log-occurred_at": "2026-03-13T10:30", "log-subject": "User list",
        "log-body": "They sent the list.", "log-reason": "Logged from the case page",
        "log-attachments": SimpleUploadedFile("users.pdf", PDF, content_type="text/html"),
    })  # fmt: skip

    kept = CommunicationAttachment.objects.get(communication__case=case)
    assert (kept.filename, kept.content_type, kept.size) == ("users.pdf", "application/pdf",
                                                             len(PDF))  # fmt: skip
    body = page(client, case)
    assert f'href="/breaches/cases/{case.pk}/attachments/{kept.pk}/"' in body
    download = client.get(url(case, f"attachments/{kept.pk}/"))
    assert download.content == PDF and download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"] == 'attachment; filename="users.pdf"'


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("script.exe", b"MZ\x90\x00", "script.exe is not a file type kept with a case"),
        ("fake.pdf", b"<html>not a pdf</html>", "fake.pdf does not hold what its name says"),
        ("big.txt", b"x" * (5 * 1024 * 1024 + 1), "big.txt is larger than 5 MB."),
    ],
)
def test_a_file_of_the_wrong_type_or_size_is_refused_beside_the_field_and_nothing_is_logged(
    client, manager, case, name, content, message
):
    client.force_login(manager)

    response = client.post(url(case, "log/"), {
        "log-kind": "call", "log-occurred_at": "2026-03-13T10:30", "log-subject": "Files",
        "log-body": "A file.", "log-reason": "Logged from the case page",
        "log-attachments": SimpleUploadedFile(name, content),
    })  # fmt: skip

    body = response.content.decode()
    assert response.status_code == 400
    assert '<a href="#id_log-attachments">Attachment</a>: ' + message in body
    assert not Communication.objects.filter(case=case, kind="call").exists()
    assert not CommunicationAttachment.objects.exists()


def test_an_emailed_file_goes_with_the_mail(
    client, manager, customer_a, case, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client.force_login(manager)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(case, "email/"), {
            "email-template": "check_in", "email-reason": "Sent from the case page",
            "email-attachments": SimpleUploadedFile("figures.csv", b"day,seats\n2026-03-11,60\n"),
        })  # fmt: skip

    entry = Communication.objects.get(case=case, kind="email")
    assert entry.attachments.get().filename == "figures.csv"
    [message] = [m for m in sent_mail.outbox if customer_a.billing_email in m.to]
    assert message.attachments == [("figures.csv", "day,seats\n2026-03-11,60\n", "text/csv")]


def test_a_customer_cannot_download_a_case_file_from_the_staff_page(
    client, manager, customer_user, case
):
    client.force_login(manager)
    client.post(url(case, "log/"), {
        "log-kind": "call", "log-occurred_at": "2026-03-13T10:30", "log-subject": "User list",
        "log-body": "List.", "log-reason": "Logged",
        "log-attachments": SimpleUploadedFile("users.pdf", PDF),
    })  # fmt: skip
    kept = CommunicationAttachment.objects.get()
    client.force_login(customer_user)

    assert client.get(url(case, f"attachments/{kept.pk}/")).status_code == 403


def test_the_pages_show_what_earlier_periods_add_to_the_true_up(
    client, manager, customer_a, customer_user
):
    case = march_case(manager, customer_a, start=date(2026, 2, 27), days=4)
    case = move(manager, case, "review", "confirm")
    earlier_overuse_decide(actor=manager, item_id=case.earlier_overuse.get().pk,
                           decision="included", reason="Known in February")  # fmt: skip
    client.force_login(manager)

    staff = client.get(url(case))
    move(manager, case, "offer")
    client.force_login(customer_user)
    portal = client.get(f"/portal/breaches/cases/{case.pk}/")

    assert staff.status_code == 200 and "with USD 22.14 from earlier periods" in (
        staff.content.decode()
    )
    assert portal.status_code == 200 and "It includes USD 22.14 for use above the entitlement" in (
        portal.content.decode()
    )
