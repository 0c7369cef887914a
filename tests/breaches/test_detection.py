"""Detection: usage above quantity x tolerance on the policy's consecutive days opens a case
with exact evidence; one open case per entitlement, new evidence joins it."""

from datetime import timedelta

import pytest

from audit.models import AuditEvent
from breaches.models import BreachCase, CaseEvent
from breaches.services.detection import breach_detect
from licensing.deprovisioning.services import policy_draft, policy_publish
from licensing.errors import ActionForbidden
from licensing.roles import Role
from tests.breaches.support import days_from, detected_case, report_usage
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def start(today):
    return today - timedelta(days=20)


def test_three_consecutive_days_over_open_a_case_with_the_evidence_the_issue_defines(
    manager, seats, start
):
    report_usage(manager, seats, days_from(start, 50, 55, 60, 52, 50))

    found = breach_detect(on=start + timedelta(days=6))

    case = BreachCase.objects.get()
    assert found.opened == [case.pk] and found.updated == []
    evidence = case.evidence
    assert {k: evidence[k] for k in ("quantity", "peak", "first_day_over", "days_over")} == {
        "quantity": 50, "peak": 60, "first_day_over": (start + timedelta(days=1)).isoformat(),
        "days_over": 3,
    }  # fmt: skip
    assert [d["quantity"] for d in evidence["daily"]] == [55, 60, 52]
    assert evidence["entitlement"]["quantity"] == 50
    assert evidence["entitlement"]["name"] == seats.name
    assert (case.state, case.metric, case.owner) == (
        "detected", "seats_in_use", seats.contract.account_manager,
    )  # fmt: skip


def test_opening_a_case_writes_history_a_timeline_entry_and_an_audit_event(manager, seats, start):
    case = detected_case(manager, seats, start=start)

    assert case.history.count() == 1
    assert list(case.events.values_list("kind", flat=True)) == [CaseEvent.Kind.DETECTED]
    event = AuditEvent.objects.get(action="breach_case.open")
    assert (event.object_id, event.data["evidence"]["days_over"]) == (str(case.pk), 3)


def test_two_days_over_are_not_enough_under_policy_v1(manager, seats, start):
    report_usage(manager, seats, days_from(start, 60, 60, 50, 60, 60))

    assert breach_detect(on=start + timedelta(days=6)).opened == []
    assert not BreachCase.objects.exists()


def test_usage_at_the_entitled_quantity_is_not_over(manager, seats, start):
    report_usage(manager, seats, days_from(start, 50, 50, 50, 50))

    assert breach_detect(on=start + timedelta(days=5)).opened == []


def test_a_run_long_ago_within_the_period_opens_a_case(manager, seats, today):
    long_ago = seats.starts_on + timedelta(days=2)

    case = detected_case(manager, seats, start=long_ago, on=today)

    assert case.evidence["first_day_over"] == long_ago.isoformat()


def test_figures_outside_the_entitlements_period_are_ignored(manager, seats):
    before = seats.starts_on - timedelta(days=3)
    report_usage(manager, seats, days_from(before, 70, 70, 70, 70), on=seats.starts_on)

    assert breach_detect(on=seats.starts_on + timedelta(days=2)).opened == []


def test_each_metric_is_compared_with_the_quantity_on_its_own(manager, seats, start):
    report_usage(manager, seats, days_from(start, 60, 60, 40), metric="seats_in_use")
    report_usage(manager, seats, days_from(start, 40, 60, 60), metric="installations")

    assert breach_detect(on=start + timedelta(days=4)).opened == []


def test_a_higher_tolerance_from_a_newer_policy_lets_the_same_usage_pass(
    manager, seats, start, today
):
    second = UserFactory(role=Role.ACCOUNT_MANAGER)
    draft = policy_draft(
        actor=manager, kind="breach", rules={"tolerance": "1.25", "consecutive_days": 3,
                                             "warning_thresholds": [80, 100]},
        summary="Tolerance 1.25", effective_from=today, reason="Licence servers allow 25%",
    )  # fmt: skip
    policy_publish(actor=second, policy_id=draft.pk, reason="Agreed", on=today)
    report_usage(manager, seats, days_from(start, 62, 62, 62))

    assert breach_detect(on=today).opened == []
    report_usage(manager, seats, days_from(start, 63, 63, 63))
    assert len(breach_detect(on=today).opened) == 1


def test_new_evidence_joins_the_open_case(manager, seats, start):
    case = detected_case(manager, seats, start=start)
    report_usage(manager, seats, days_from(start + timedelta(days=8), 70, 71, 72, 73))

    found = breach_detect(on=start + timedelta(days=13))

    case.refresh_from_db()
    assert found.opened == [] and found.updated == [case.pk]
    assert [r["days_over"] for r in case.evidence["runs"]] == [3, 4]
    assert case.evidence["first_day_over"] == start.isoformat()  # the opening run stays
    assert BreachCase.objects.count() == 1
    assert case.events.filter(kind=CaseEvent.Kind.EVIDENCE).count() == 1


def test_a_run_that_grows_updates_the_opening_evidence(manager, seats, start):
    case = detected_case(manager, seats, start=start, peak=60)
    report_usage(manager, seats, days_from(start + timedelta(days=3), 80))

    breach_detect(on=start + timedelta(days=5))

    case.refresh_from_db()
    assert (case.evidence["days_over"], case.evidence["peak"]) == (4, 80)


def test_detection_run_again_changes_nothing(manager, seats, start):
    detected_case(manager, seats, start=start)
    events = AuditEvent.objects.count()

    found = breach_detect(on=start + timedelta(days=5))

    assert (found.opened, found.updated) == ([], [])
    assert AuditEvent.objects.count() == events


def test_an_escalated_case_is_open_and_takes_the_new_evidence(manager, seats, start):
    case = detected_case(manager, seats, start=start)
    BreachCase.objects.filter(pk=case.pk).update(state=BreachCase.State.ESCALATED)
    report_usage(manager, seats, days_from(start + timedelta(days=8), 70, 70, 70))

    found = breach_detect(on=start + timedelta(days=12))

    assert found.updated == [case.pk] and BreachCase.objects.count() == 1


def test_a_run_judged_in_a_closed_case_does_not_open_another(manager, seats, start):
    case = detected_case(manager, seats, start=start)
    BreachCase.objects.filter(pk=case.pk).update(state=BreachCase.State.DISMISSED)

    assert breach_detect(on=start + timedelta(days=5)).opened == []


@pytest.mark.parametrize("persona", ["analyst", "auditor", "customer_user"], indirect=True)
def test_only_managers_run_detection(persona, today):
    with pytest.raises(ActionForbidden):
        breach_detect(actor=persona, on=today)


def test_the_detect_api_answers_the_opened_and_updated_cases(api, manager, seats, start):
    report_usage(manager, seats, days_from(start, 60, 60, 60))

    response = api(manager).post("/api/v1/breaches/detect/")

    assert response.status_code == 200
    assert response.json() == {"opened": [BreachCase.objects.get().pk], "updated": []}


@pytest.mark.parametrize("persona", ["analyst", "customer_user"], indirect=True)
def test_the_detect_api_refuses_other_roles(api, persona, manager, seats, start):
    report_usage(manager, seats, days_from(start, 60, 60, 60))

    assert api(persona).post("/api/v1/breaches/detect/").status_code == 403
    assert not BreachCase.objects.exists()


def test_detection_costs_the_same_queries_for_two_entitlements_as_for_four(
    manager, customer_a, start
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import ContractFactory, EntitlementFactory

    def over(count):
        for _ in range(count):
            entitlement = EntitlementFactory(contract=ContractFactory(customer=customer_a),
                                             quantity=50)  # fmt: skip
            report_usage(manager, entitlement, days_from(start, 60, 60, 60))
        with CaptureQueriesContext(connection) as queries:
            found = breach_detect(actor=manager, on=start + timedelta(days=4))
        return len(found.opened), len(queries)

    two, four = over(2), over(2)

    assert (two[0], four[0]) == (2, 2) and four[1] == two[1]


def test_detection_narrowed_to_some_entitlements_opens_only_theirs(
    manager, seats, other_seats, start
):
    report_usage(manager, seats, days_from(start, 60, 60, 60))
    report_usage(manager, other_seats, days_from(start, 9, 9, 9))

    found = breach_detect(on=start + timedelta(days=4), entitlement_ids=[other_seats.pk])

    assert [BreachCase.objects.get(pk=pk).entitlement for pk in found.opened] == [other_seats]
