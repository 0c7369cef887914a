"""Milestones: reminded before their deadline, escalating the case once passed (the beat job,
with the clock moved on), and, for a willful case past its final deadline, deprovisioning with
a second person's approval."""

from datetime import timedelta

import pytest

from audit.models import AuditEvent
from breaches.models import BreachCase, Milestone
from breaches.services import (
    breach_case_classify,
    breach_deprovision_approve,
    breach_deprovision_request,
    milestone_complete,
    milestone_create,
)
from breaches.tasks import process_milestones
from licensing.deprovisioning.models import DeprovisioningRun
from licensing.errors import ActionForbidden, DomainError, TransitionNotAllowed
from licensing.models import Entitlement
from licensing.roles import Role
from outbox.models import Mail
from tests.breaches.support import current_case, move
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def offered(manager, customer_a, customer_user, today):
    customer_user.email = "nina@northwind.test"
    customer_user.save()
    manager.email = "maya@licensedesk.test"
    manager.save()
    case = current_case(manager, customer_a)
    return move(manager, case, "review", "confirm", "offer", on=today)


def test_offering_sets_a_milestone_with_a_named_contact_on_each_side(
    offered, manager, customer_user, today
):
    milestone = offered.milestones.get()

    assert milestone.due_on == today + timedelta(days=14)
    assert (milestone.our_contact, milestone.customer_contact_name,
            milestone.customer_contact_email) == (
        manager, customer_user.get_full_name(), "nina@northwind.test",
    )  # fmt: skip


def test_both_contacts_are_reminded_once_before_the_deadline(offered, pinned_clock):
    pinned_clock.shift(timedelta(days=11))  # three days before the deadline

    first = process_milestones.delay().get()
    again = process_milestones.delay().get()

    milestone = offered.milestones.get()
    assert first["reminded"] == [milestone.pk] and again["reminded"] == []
    mail = Mail.objects.get(kind="breach.milestone_reminder")
    assert mail.recipients == ["maya@licensedesk.test", "nina@northwind.test"]
    assert offered.communications.filter(template="milestone_reminder").count() == 1


def test_nobody_is_reminded_earlier_than_the_milestone_says(offered, pinned_clock):
    pinned_clock.shift(timedelta(days=10))

    assert process_milestones.delay().get() == {"reminded": [], "escalated": []}


def test_a_passed_deadline_escalates_the_case_once(offered, pinned_clock):
    pinned_clock.shift(timedelta(days=15))

    first = process_milestones.delay().get()
    again = process_milestones.delay().get()

    case = BreachCase.objects.get(pk=offered.pk)
    assert (case.state, case.escalated_from) == ("escalated", "remediation_offered")
    assert first["escalated"] == [case.milestones.get().pk] and again["escalated"] == []
    event = AuditEvent.objects.get(action="breach_case.escalate")
    assert event.actor_username == "licensedesk-system" and "passed undone" in event.reason
    assert Mail.objects.filter(kind="breach.milestone_overdue").count() == 1


def test_a_milestone_met_in_time_escalates_nothing(offered, manager, pinned_clock, today):
    milestone_complete(actor=manager, milestone_id=offered.milestones.get().pk, on=today,
                       reason="They chose")  # fmt: skip
    pinned_clock.shift(timedelta(days=20))

    assert process_milestones.delay().get()["escalated"] == []
    assert BreachCase.objects.get(pk=offered.pk).state == "remediation_offered"


def test_a_manager_sets_a_milestone_due_after_today(offered, manager, today):
    milestone = milestone_create(actor=manager, case_id=offered.pk, title="Call back",
                                 due_on=today + timedelta(days=5), on=today,
                                 reason="Agreed on the call")  # fmt: skip

    assert milestone.history.count() == 1
    with pytest.raises(DomainError) as refused:
        milestone_create(actor=manager, case_id=offered.pk, title="Yesterday", due_on=today,
                         on=today, reason="x")  # fmt: skip
    assert refused.value.field == "due_on"


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


@pytest.fixture
def second_manager(db):
    return UserFactory(username="omar", role=Role.ACCOUNT_MANAGER)


def test_an_unresolved_willful_case_past_its_final_deadline_deprovisions_with_two_people(
    overdue_willful, manager, second_manager
):
    on = overdue_willful.milestones.get(is_final=True).due_on + timedelta(days=1)
    breach_deprovision_request(actor=manager, case_id=overdue_willful.pk, on=on,
                               reason="No reply to three reminders")  # fmt: skip

    case = breach_deprovision_approve(actor=second_manager, case_id=overdue_willful.pk, on=on,
                                      reason="Agreed: nothing else worked")  # fmt: skip

    # Licensing's deprovisioning run for the one entitlement, started by the approver; it runs
    # on after commit (tests/licensing/deprovisioning/test_entitlement_run.py follows it to the
    # connected systems), and the entitlement's renewal stops at once.
    run = DeprovisioningRun.objects.get(entitlement_id=case.entitlement_id)
    assert (run.trigger, run.created_by, run.state) == ("breach", second_manager, "planned")
    assert Entitlement.objects.get(pk=case.entitlement_id).renewal == "none"
    assert case.deprovision_reference == f"licensing.deprovisioningrun:{run.pk}"
    assert case.deprovision_approved_by == second_manager
    audit = AuditEvent.objects.get(action="breach_case.deprovision")
    assert (audit.data["requested_by"], audit.data["run"]) == ("maya", run.pk)


def test_the_person_who_asked_cannot_approve_deprovisioning(overdue_willful, manager):
    on = overdue_willful.milestones.get(is_final=True).due_on + timedelta(days=1)
    breach_deprovision_request(actor=manager, case_id=overdue_willful.pk, on=on, reason="No reply")

    with pytest.raises(ActionForbidden):
        breach_deprovision_approve(actor=manager, case_id=overdue_willful.pk, on=on, reason="Me")
    assert Entitlement.objects.get(pk=overdue_willful.entitlement_id).state == "active"


def test_deprovisioning_waits_for_the_final_deadline(manager, customer_a, today):
    case = current_case(manager, customer_a)
    breach_case_classify(actor=manager, case_id=case.pk, classification="willful",
                         rationale="Kept adding users")  # fmt: skip
    case = move(manager, case, "review", "confirm", "offer", "agree", option="true_up", on=today)

    with pytest.raises(TransitionNotAllowed, match="final deadline"):
        breach_deprovision_request(actor=manager, case_id=case.pk, on=today, reason="Now")


def test_an_inadvertent_case_never_leads_to_deprovisioning(overdue_willful, manager):
    on = overdue_willful.milestones.get(is_final=True).due_on + timedelta(days=1)
    breach_case_classify(actor=manager, case_id=overdue_willful.pk, classification="inadvertent",
                         rationale="On reflection, a mistake")  # fmt: skip

    with pytest.raises(TransitionNotAllowed, match="willful"):
        breach_deprovision_request(actor=manager, case_id=overdue_willful.pk, on=on, reason="x")
    assert not Milestone.objects.filter(case=overdue_willful, done_on__isnull=False,
                                        is_final=True).exists()  # fmt: skip


@pytest.mark.django_db(transaction=True)  # the run advances after commit, as in production
def test_approved_deprovisioning_revokes_the_holder_at_the_license_server_after_grace(
    overdue_willful, manager, second_manager, admin_user, settings, pinned_clock
):
    from licensing.deprovisioning.connectors.webhook import new_webhook_secret
    from licensing.deprovisioning.services import assignment_create, connected_system_create
    from licensing.deprovisioning.tasks import deprovisioning_nightly
    from licensing.deprovisioning.testing import WebhookReceiver, serve_in_thread

    settings.DEBUG = True  # loopback base URLs are accepted in debug only
    secret = new_webhook_secret()
    receiver = WebhookReceiver(secret=secret, holders={"acct-1": True})
    on = overdue_willful.milestones.get(is_final=True).due_on + timedelta(days=1)
    with serve_in_thread(receiver) as url:
        system = connected_system_create(
            actor=admin_user, name="License server", kind="license_server", protocol="webhook",
            base_url=url, secret=secret,
        )  # fmt: skip
        assignment_create(actor=admin_user, entitlement=overdue_willful.entitlement,
                          system=system, external_id="acct-1")  # fmt: skip
        breach_deprovision_request(actor=manager, case_id=overdue_willful.pk, on=on,
                                   reason="No reply to three reminders")  # fmt: skip
        breach_deprovision_approve(actor=second_manager, case_id=overdue_willful.pk, on=on,
                                   reason="Agreed: nothing else worked")  # fmt: skip
        run = DeprovisioningRun.objects.get(entitlement_id=overdue_willful.entitlement_id)
        if run.grace_days:  # the contract grants grace: it ends, then the nightly job revokes
            assert (run.state, run.entitlement.state) == ("executing", "grace")
            assert receiver.attempts == []
            pinned_clock.shift(timedelta(days=run.grace_days))
            deprovisioning_nightly.delay().get()
        run.refresh_from_db()

    [delivery] = run.deliveries.all()
    assert (run.state, delivery.state) == ("completed", "confirmed")
    assert receiver.holders["acct-1"] is False
    assert Entitlement.objects.get(pk=overdue_willful.entitlement_id).state == "revoked"
