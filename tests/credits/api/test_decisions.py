"""Approving, rejecting and sending back credits through the API: roles, SoD, 409s and races."""

import re
from datetime import timedelta
from functools import partial

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from credits import services
from credits.models import AccountEntry, Credit
from licensing.models import Entitlement
from tests.factories import UserFactory
from tests.support import Snapshot, paid_contract, race, requested_credit, seat_credit

pytestmark = pytest.mark.django_db

S = Credit.Status


def decide(client, credit, decision: str, body=None):
    return client.post(
        f"/api/v1/credits/credits/{credit.pk}/{decision}/", body or {}, format="json"
    )


def reasoned() -> dict:
    return {"reason": "Checked against the order form"}


# Credits the customer requested today, with 13 to 16 days of the period left (see conftest.py).


@pytest.fixture
def small_credit(customer_user, customer_a, today, period) -> Credit:
    """30 of 50 seats (USD 1,500.00 paid), about USD 450: one step, a finance analyst's."""
    contract = paid_contract(customer_a, period=period)
    return requested_credit(customer_user, contract, effective=today)


@pytest.fixture
def large_credit(customer_user, customer_a, today, period) -> Credit:
    """300 of 500 seats (USD 15,000.00 paid), about USD 4,500: an analyst, then an approver."""
    contract = paid_contract(customer_a, seats=500, period=period)
    return requested_credit(customer_user, contract, quantity_after=200, effective=today)


@pytest.fixture
def huge_credit(customer_user, customer_a, today, period) -> Credit:
    """300 of 500 seats (USD 50,000.00 paid), about USD 15,000: an analyst, a finance approver,
    then the financial controller."""
    contract = paid_contract(customer_a, seats=500, unit_price="100.00", period=period)
    return requested_credit(customer_user, contract, quantity_after=200, effective=today)


# Approving


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("analyst", 200),
        ("admin_user", 200),
        ("approver", 403),
        ("controller", 403),
        ("manager", 403),
        ("auditor", 403),
        ("customer_user", 403),
        ("other_customer_user", 404),
    ],
    indirect=["persona"],
)
def test_who_may_approve_the_first_step(api, small_credit, persona, expected):
    before = Snapshot(small_credit)

    response = decide(api(persona), small_credit, "approve", reasoned())

    assert response.status_code == expected
    if expected != 200:
        assert before.unchanged()


def test_the_last_approval_issues_the_credit(api, analyst, small_credit, today, period):
    amount = seat_credit(paid="1500.00", seats=50, after=20, period=period, effective=today)

    response = decide(api(analyst), small_credit, "approve", reasoned())

    body = response.json()
    assert (body["status"], body["amount"], body["version"]) == ("issued", str(amount), 3)
    assert re.fullmatch(r"CN-\d{4}-000001", body["number"])
    assert [(s["status"], s["decided_by"], s["reason"]) for s in body["steps"]] == [
        ("approved", "priya", "Checked against the order form")
    ]


def test_issuing_posts_to_the_account_and_changes_the_seats(api, analyst, small_credit):
    decide(api(analyst), small_credit, "approve", reasoned())

    entry = AccountEntry.objects.get(credit=small_credit)
    assert (entry.kind, entry.amount, entry.customer) == (
        "credit_note", small_credit.amount, small_credit.customer,
    )  # fmt: skip
    pool = Entitlement.objects.get(contract=small_credit.contract)
    assert pool.quantity == 20
    actions = set(AuditEvent.objects.filter(actor=analyst).values_list("action", flat=True))
    assert {"credit.approve_step", "credit.issue"} <= actions


def test_approving_one_step_of_two_hands_the_credit_to_the_next(api, analyst, large_credit):
    response = decide(api(analyst), large_credit, "approve")

    body = response.json()
    assert (response.status_code, body["status"], body["number"]) == (200, "pending", None)
    assert [(s["role"], s["status"]) for s in body["steps"]] == [
        ("finance_analyst", "approved"),
        ("finance_approver", "pending"),
    ]
    assert body["steps"][1]["due_at"] is not None


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("approver", 200), ("analyst", 403), ("other_analyst", 403), ("controller", 403)],
    indirect=["persona"],
)
def test_only_a_finance_approver_decides_the_second_step(
    api, analyst, large_credit, persona, expected
):
    services.credit_approve(actor=analyst, credit_id=large_credit.pk)
    before = Snapshot(large_credit)

    response = decide(api(persona), large_credit, "approve")

    assert response.status_code == expected
    if expected == 200:
        assert response.json()["status"] == "issued"
    else:
        assert before.unchanged()


def test_approving_without_a_reason_is_allowed(api, analyst, small_credit):
    response = decide(api(analyst), small_credit, "approve")

    assert response.status_code == 200
    assert response.json()["steps"][0]["reason"] == ""


# Segregation of duties


@pytest.mark.parametrize(("decider", "expected"), [("requester", 403), ("colleague", 200)])
def test_whoever_requested_a_credit_cannot_approve_it(
    api, analyst, other_analyst, customer_a, decider, expected
):
    credit = requested_credit(analyst, paid_contract(customer_a))
    before = Snapshot(credit)
    user = analyst if decider == "requester" else other_analyst

    response = decide(api(user), credit, "approve")

    assert response.status_code == expected
    if expected == 403:
        assert "Segregation of duties" in response.json()["detail"]
        assert before.unchanged()


@pytest.mark.parametrize(("decision", "body"), [("reject", reasoned()), ("send-back", reasoned())])
def test_whoever_requested_a_credit_cannot_reject_or_send_it_back(
    api, analyst, customer_a, decision, body
):
    credit = requested_credit(analyst, paid_contract(customer_a))
    before = Snapshot(credit)

    response = decide(api(analyst), credit, decision, body)

    assert response.status_code == 403
    assert before.unchanged()


@pytest.mark.parametrize(("decider", "expected"), [("same", 403), ("another", 200)])
def test_nobody_approves_two_steps_of_one_credit(
    api, admin_user, approver, large_credit, decider, expected
):
    # An administrator may act in any role, so only segregation of duties stops a second step.
    decide(api(admin_user), large_credit, "approve")
    before = Snapshot(large_credit)

    response = decide(api(admin_user if decider == "same" else approver), large_credit, "approve")

    assert response.status_code == expected
    if expected == 403:
        assert "already decided a step" in response.json()["detail"]
        assert before.unchanged()


@pytest.mark.parametrize(("decider", "expected"), [("same", 403), ("another", 200)])
def test_a_controller_who_took_an_escalated_step_cannot_approve_the_last(
    api, controller, other_controller, approver, huge_credit, decider, expected
):
    services.process_approval_deadlines(now=timezone.now() + timedelta(hours=49))
    assert decide(api(controller), huge_credit, "approve").status_code == 200
    assert decide(api(approver), huge_credit, "approve").status_code == 200
    before = Snapshot(huge_credit)

    response = decide(
        api(controller if decider == "same" else other_controller), huge_credit, "approve"
    )

    assert response.status_code == expected
    if expected == 200:
        assert response.json()["status"] == "issued"
    else:
        assert before.unchanged()


# Conflicts: 409


def test_a_second_approval_of_an_issued_credit_answers_409(
    api, analyst, other_analyst, small_credit
):
    decide(api(analyst), small_credit, "approve")
    before = Snapshot(small_credit)

    response = decide(api(other_analyst), small_credit, "approve")

    assert response.status_code == 409
    assert "issued" in response.json()["detail"]
    assert before.unchanged()
    assert Credit.objects.filter(status=S.ISSUED).count() == 1


def test_the_same_approver_approving_twice_answers_409(api, admin_user, large_credit):
    # Two steps, so the credit still awaits a decision after the first approval: the repeat (a
    # double submit of the version the approver loaded) is refused as such, not because the
    # credit is issued.
    client, loaded = api(admin_user), large_credit.version
    assert decide(client, large_credit, "approve", {"version": loaded}).status_code == 200
    before = Snapshot(large_credit)

    response = decide(client, large_credit, "approve", {"version": loaded})

    assert response.status_code == 409
    assert "Reload" in response.json()["detail"]
    assert before.unchanged()
    assert Credit.objects.get(pk=large_credit.pk).status == S.PENDING


@pytest.mark.parametrize(("version", "expected"), [(1, 200), (2, 409)], ids=["current", "stale"])
def test_a_decision_on_a_stale_version_answers_409(api, analyst, small_credit, version, expected):
    before = Snapshot(small_credit)

    response = decide(api(analyst), small_credit, "approve", {"version": version})

    assert response.status_code == expected
    if expected == 409:
        assert "Reload" in response.json()["detail"]
        assert before.unchanged()


@pytest.mark.parametrize("decision", ["approve", "reject", "send-back"])
def test_no_decision_is_taken_on_a_rejected_credit(
    api, analyst, other_analyst, small_credit, decision
):
    services.credit_reject(actor=analyst, credit_id=small_credit.pk, reason="Not agreed")
    before = Snapshot(small_credit)

    response = decide(api(other_analyst), small_credit, decision, reasoned())

    assert response.status_code == 409
    assert before.unchanged()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_of_simultaneous_approvals_exactly_one_issues_the_credit(manager, customer_a, api):
    credit = requested_credit(manager, paid_contract(customer_a))
    analysts = [UserFactory(username=f"analyst{i}", role="finance_analyst") for i in range(4)]
    clients = [api(user) for user in analysts]
    outcomes = race([partial(decide, client, credit, "approve") for client in clients])
    statuses = [outcome.status_code for outcome in outcomes]

    assert sorted(statuses) == [200, 409, 409, 409]
    credit.refresh_from_db()
    assert credit.status == S.ISSUED
    assert AccountEntry.objects.filter(credit=credit).count() == 1
    assert AuditEvent.objects.filter(action="credit.issue").count() == 1


# Rejecting and sending back


@pytest.mark.parametrize(
    ("decision", "status", "step_status"),
    [("reject", "rejected", "rejected"), ("send-back", "sent_back", "sent_back")],
)
def test_a_decision_against_records_its_reason(
    api, analyst, small_credit, decision, status, step_status
):
    response = decide(api(analyst), small_credit, decision, {"reason": "Seats still in use"})

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["number"]) == (status, None)
    assert [(s["status"], s["decided_by"], s["reason"]) for s in body["steps"]] == [
        (step_status, "priya", "Seats still in use")
    ]
    assert AuditEvent.objects.filter(
        action=f"credit.{decision.replace('-', '_')}", reason="Seats still in use"
    ).exists()
    assert not AccountEntry.objects.exists()


@pytest.mark.parametrize("decision", ["reject", "send-back"])
@pytest.mark.parametrize("body", [{}, {"reason": ""}], ids=["missing", "blank"])
def test_a_decision_against_needs_a_reason(api, analyst, small_credit, decision, body):
    before = Snapshot(small_credit)

    response = decide(api(analyst), small_credit, decision, body)

    assert response.status_code == 400
    assert response.json()["reason"]
    assert before.unchanged()


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("analyst", 200),
        ("approver", 403),
        ("manager", 403),
        ("auditor", 403),
        ("customer_user", 403),
        ("other_customer_user", 404),
    ],
    indirect=["persona"],
)
@pytest.mark.parametrize("decision", ["reject", "send-back"])
def test_who_may_decide_against_the_first_step(api, small_credit, persona, expected, decision):
    before = Snapshot(small_credit)

    response = decide(api(persona), small_credit, decision, reasoned())

    assert response.status_code == expected
    if expected != 200:
        assert before.unchanged()


def test_a_second_step_may_be_sent_back_by_its_approver(api, analyst, approver, large_credit):
    services.credit_approve(actor=analyst, credit_id=large_credit.pk)

    response = decide(api(approver), large_credit, "send-back", {"reason": "Wrong form"})

    assert response.status_code == 200
    assert [s["status"] for s in response.json()["steps"]] == ["approved", "sent_back"]


@pytest.mark.parametrize("decision", ["approve", "reject", "send-back"])
def test_anonymous_users_cannot_decide(api, small_credit, decision):
    before = Snapshot(small_credit)

    response = decide(api(), small_credit, decision, reasoned())

    assert response.status_code in (401, 403)
    assert before.unchanged()


def test_an_unknown_credit_answers_404(api, analyst):
    response = decide(api(analyst), Credit(pk=999999), "approve")

    assert response.status_code == 404


def test_after_a_resubmission_the_same_people_may_decide_again(
    api, customer_user, analyst, approver, large_credit
):
    services.credit_approve(actor=analyst, credit_id=large_credit.pk)
    services.credit_send_back(actor=approver, credit_id=large_credit.pk, reason="Wrong form")
    services.credit_resubmit(actor=customer_user, credit_id=large_credit.pk, reason="Fixed")

    first = decide(api(analyst), large_credit, "approve")
    second = decide(api(approver), large_credit, "approve")

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["status"] == "issued"
