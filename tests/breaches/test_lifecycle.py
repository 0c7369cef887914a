"""The case lifecycle through its service: moves as written, guards, 409s naming state and move,
customers agreeing and nothing else, two-person endings of an escalated case."""

from datetime import timedelta

import pytest

from audit.models import AuditEvent
from breaches.models import BreachCase, CaseEvent
from breaches.services import (
    breach_case_classify,
    remediation_option_drop,
)
from licensing.errors import ActionForbidden, DomainError, TransitionNotAllowed
from licensing.roles import Role
from outbox.models import Mail
from tests.breaches.support import ON, days_from, march_case, move, report_usage
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
S = BreachCase.State


@pytest.fixture
def case(manager, customer_a):
    return march_case(manager, customer_a)


@pytest.fixture
def second_manager(db):
    return UserFactory(username="omar", role=Role.ACCOUNT_MANAGER)


def _agreed(manager, case):
    return move(manager, case, "review", "confirm", "offer", "agree", option="true_up")


def test_a_case_moves_from_detection_to_resolution_as_written(manager, case):
    case = _agreed(manager, case)
    case = move(manager, case, "start_remediation")
    report_usage(manager, case.entitlement, days_from(ON + timedelta(days=1), 48))

    case = move(manager, case, "resolve", on=ON + timedelta(days=3))

    assert case.state == S.RESOLVED and case.closed_at is not None
    assert list(case.events.exclude(kind__in=["milestone", "communication"])
                .values_list("action", flat=True)) == [
        "detect", "review", "confirm", "offer", "agree", "start_remediation", "resolve",
    ]  # fmt: skip
    assert AuditEvent.objects.filter(action="breach_case.resolve", object_id=str(case.pk)).exists()
    assert case.history.filter(state=S.RESOLVED, history_change_reason="Test: resolve").exists()


@pytest.mark.parametrize(
    ("moves", "illegal"),
    [
        ([], "offer"),
        ([], "confirm"),
        (["review"], "agree"),
        (["review", "confirm"], "resolve"),
        (["review", "dismiss"], "escalate"),
        (["review", "dismiss"], "review"),
    ],
)
def test_an_illegal_move_is_refused_naming_the_state_and_the_move(manager, case, moves, illegal):
    case = move(manager, case, *moves)
    events, state = case.events.count(), case.state

    with pytest.raises(TransitionNotAllowed) as refused:
        move(manager, case, illegal, option="true_up")

    assert case.state in str(refused.value) and illegal in str(refused.value)
    case.refresh_from_db()
    assert (case.state, case.events.count()) == (state, events)


def test_no_offer_without_an_option(manager, case):
    case = move(manager, case, "review", "confirm")
    for option in case.options.all():
        remediation_option_drop(actor=manager, option_id=option.pk, reason="Not for this one")

    with pytest.raises(TransitionNotAllowed, match="option"):
        move(manager, case, "offer")
    case.refresh_from_db()
    assert case.state == S.CONFIRMED


def test_no_resolution_before_compliant_usage_is_reported_after_the_agreement(manager, case):
    case = move(manager, _agreed(manager, case), "start_remediation")

    with pytest.raises(TransitionNotAllowed, match="since the agreement") as refused:
        move(manager, case, "resolve")

    assert "in_remediation" in str(refused.value) and "resolve" in str(refused.value)


def test_usage_still_over_after_the_agreement_does_not_resolve(manager, case):
    case = move(manager, _agreed(manager, case), "start_remediation")
    report_usage(manager, case.entitlement, days_from(ON + timedelta(days=1), 51))

    with pytest.raises(TransitionNotAllowed):
        move(manager, case, "resolve")


def test_a_compliant_figure_reported_before_the_agreement_does_not_count(manager, case):
    case = move(manager, case, "review", "confirm", "offer")
    report_usage(manager, case.entitlement, days_from(ON, 45))
    case = move(manager, case, "agree", "start_remediation", option="true_up")

    with pytest.raises(TransitionNotAllowed):
        move(manager, case, "resolve")


def test_a_compliant_figure_for_a_day_before_the_agreement_does_not_count(manager, case):
    case = move(manager, _agreed(manager, case), "start_remediation")
    report_usage(manager, case.entitlement, days_from(ON - timedelta(days=1), 45), on=ON)

    with pytest.raises(TransitionNotAllowed):
        move(manager, case, "resolve")


def test_the_customer_agrees_to_one_offered_option_on_its_own_case(manager, customer_user, case):
    case = move(manager, case, "review", "confirm", "offer")

    case = move(customer_user, case, "agree", option="true_up")

    assert case.state == S.REMEDIATION_AGREED
    assert (case.agreed_option.kind, case.agreed_by, case.agreed_on) == (
        "true_up",
        customer_user,
        ON,
    )
    entry = case.events.get(kind=CaseEvent.Kind.AGREEMENT)
    assert entry.actor == customer_user and entry.data["option"] == "true_up"


def test_an_option_not_offered_cannot_be_agreed_to(manager, customer_user, case):
    case = move(manager, case, "review", "confirm")
    grace = case.options.get(kind="grace_extension")
    remediation_option_drop(actor=manager, option_id=grace.pk, reason="Not this time")
    case = move(manager, case, "offer")

    with pytest.raises(DomainError) as refused:
        move(customer_user, case, "agree", option="grace_extension")

    assert refused.value.field == "option"


@pytest.mark.parametrize("transition", ["review", "confirm", "escalate", "resolve", "dismiss"])
def test_a_customer_may_make_no_other_move_on_its_own_case(customer_user, case, transition):
    with pytest.raises(ActionForbidden):
        move(customer_user, case, transition)
    case.refresh_from_db()
    assert case.state == S.DETECTED


def test_another_customer_may_not_agree(manager, other_customer_user, case):
    case = move(manager, case, "review", "confirm", "offer")

    with pytest.raises(ActionForbidden):
        move(other_customer_user, case, "agree", option="true_up")


@pytest.mark.parametrize("persona", ["analyst", "auditor"], indirect=True)
def test_roles_other_than_managers_move_nothing(persona, case):
    with pytest.raises(ActionForbidden):
        move(persona, case, "review")


@pytest.mark.parametrize(
    "moves", [[], ["review"], ["review", "confirm"], ["review", "confirm", "offer"]]
)
def test_any_open_state_may_escalate(manager, case, moves):
    case = move(manager, case, *moves)
    before = case.state

    case = move(manager, case, "escalate")

    assert (case.state, case.escalated_from) == (S.ESCALATED, before)


@pytest.mark.parametrize(("ending", "target"), [("dismiss", S.DISMISSED), ("resolve", S.RESOLVED)])
def test_an_escalated_case_ends_only_with_a_second_persons_approval(
    manager, second_manager, case, ending, target
):
    case = move(manager, case, "escalate")

    asked = move(manager, case, ending)
    assert (asked.state, asked.close_requested_to) == (S.ESCALATED, target)
    with pytest.raises(ActionForbidden):
        move(manager, asked, ending)
    ended = move(second_manager, asked, ending)

    assert ended.state == target
    assert AuditEvent.objects.get(action=f"breach_case.{ending}").data["requested_by"] == "maya"


def test_classification_keeps_its_rationale_and_is_audited(manager, case):
    case = breach_case_classify(
        actor=manager, case_id=case.pk, classification="inadvertent",
        rationale="A new team onboarded before the renewal",
    )  # fmt: skip

    assert (case.classification, case.classified_by) == ("inadvertent", manager)
    assert case.events.get(kind="classification").data["rationale"].startswith("A new team")
    assert AuditEvent.objects.filter(action="breach_case.classify").count() == 1


def test_classification_needs_a_rationale(manager, case):
    with pytest.raises(DomainError) as refused:
        breach_case_classify(actor=manager, case_id=case.pk, classification="willful",
                             rationale=" ")  # fmt: skip
    assert refused.value.field == "rationale"


def test_the_offer_mails_the_proposal_and_logs_it_on_the_timeline(manager, customer_a, case):
    customer_a.billing_email = "billing@northwind.test"
    customer_a.save()

    case = move(manager, case, "review", "confirm", "offer")

    mail = Mail.objects.get(kind="breach.remediation_proposal")
    assert mail.recipients == ["billing@northwind.test"] and "True-up" in mail.body
    entry = case.communications.get()
    assert (entry.template, entry.mail) == ("remediation_proposal", mail)
    assert case.milestones.get().title == "Choose a remediation option"


def test_agreement_sets_the_final_milestone(manager, case):
    case = _agreed(manager, case)

    final = case.milestones.get(is_final=True)
    assert final.due_on > ON and final.title == "Usage back within the entitlement"
    assert case.milestones.get(is_final=False).done_on == ON
