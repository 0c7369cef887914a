"""The case API exactly as the issue gives it, for staff and for customers."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from breaches.models import BreachCase, Communication
from licensing.roles import Role
from tests.breaches.support import march_case, move
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
S = BreachCase.State


@pytest.fixture
def case(manager, customer_a):
    return march_case(manager, customer_a)


@pytest.fixture
def offered(manager, case):
    return move(manager, case, "review", "confirm", "offer")


def _post(client, case, move_name, **body):
    return client.post(f"/api/v1/breach-cases/{case.pk}/{move_name}/", body, format="json")


def test_the_case_reads_with_state_classification_evidence_options_milestones_timeline(
    api, manager, offered
):
    body = api(manager).get(f"/api/v1/breach-cases/{offered.pk}/").json()

    assert body["state"] == "remediation_offered" and body["classification"] == ""
    keys = ("quantity", "peak", "first_day_over", "days_over")
    assert {k: body["evidence"][k] for k in keys} == {
        "quantity": 50, "peak": 60, "first_day_over": "2026-03-11", "days_over": 3,
    }  # fmt: skip
    true_up = next(o for o in body["options"] if o["kind"] == "true_up")
    assert (true_up["amount"], true_up["currency"]) == ("210.00", "USD")
    assert true_up["explanation"] and true_up["fees"] == "0.00"
    assert [m["title"] for m in body["milestones"]] == ["Choose a remediation option"]
    assert [e["action"] for e in body["timeline"] if e["kind"] == "transition"] == [
        "review", "confirm", "offer",
    ]  # fmt: skip
    assert any(e["kind"] == "communication" for e in body["timeline"])


def test_the_list_filters_by_entitlement_and_state(api, manager, customer_a, customer_b):
    first = march_case(manager, customer_a)
    second = move(manager, march_case(manager, customer_b), "review")
    client = api(manager)

    by_state = client.get("/api/v1/breach-cases/", {"state": "under_review"}).json()
    by_entitlement = client.get(
        "/api/v1/breach-cases/", {"entitlement": first.entitlement_id}
    ).json()

    assert [c["id"] for c in by_state["results"]] == [second.pk]
    assert [c["id"] for c in by_entitlement["results"]] == [first.pk]


def test_the_list_costs_the_same_queries_for_two_cases_as_for_four(api, manager, customer_a):
    client = api(manager)
    for _ in range(2):
        move(manager, march_case(manager, customer_a), "review", "confirm", "offer")
    client.get("/api/v1/breach-cases/")
    with CaptureQueriesContext(connection) as two:
        client.get("/api/v1/breach-cases/")
    for _ in range(2):
        move(manager, march_case(manager, customer_a), "review", "confirm", "offer")
    with CaptureQueriesContext(connection) as four:
        client.get("/api/v1/breach-cases/")

    assert len(four) == len(two)


def test_a_move_answers_the_case_and_records_actor_and_reason(api, manager, case):
    response = _post(api(manager), case, "review", reason="Looking into it")

    assert response.status_code == 200 and response.json()["state"] == "under_review"
    event = AuditEvent.objects.get(action="breach_case.review")
    assert (event.actor_username, event.reason) == ("maya", "Looking into it")


def test_an_illegal_move_answers_409_naming_state_and_move(api, manager, case):
    response = _post(api(manager), case, "offer", reason="Too soon")

    assert response.status_code == 409
    assert "detected" in response.json()["detail"] and "offer" in response.json()["detail"]


def test_a_move_without_a_reason_is_400_under_the_field(api, manager, case):
    response = _post(api(manager), case, "review")

    assert response.status_code == 400 and "reason" in response.json()


def test_a_managers_agree_names_the_option(api, manager, offered):
    client = api(manager)

    assert _post(client, offered, "agree", reason="On the phone").status_code == 400
    response = _post(client, offered, "agree", reason="On the phone", option="grace_extension")

    assert response.status_code == 200 and response.json()["agreed_option"] == "grace_extension"


def test_a_customer_reads_its_own_case_without_staff_fields(api, manager, customer_user, offered):
    BreachCase.objects.filter(pk=offered.pk).update(staff_notes="Tough negotiator")

    body = api(customer_user).get(f"/api/v1/breach-cases/{offered.pk}/").json()

    assert body["state"] == "remediation_offered" and body["options"]
    for staff_only in ("staff_notes", "classification", "owner", "communications"):
        assert staff_only not in body
    assert all("actor" not in e and "reason" not in e for e in body["timeline"])
    assert "Tough negotiator" not in str(body)


def test_a_customer_lists_only_its_own_cases(api, manager, customer_user, customer_a, customer_b):
    own = march_case(manager, customer_a)
    march_case(manager, customer_b)

    body = api(customer_user).get("/api/v1/breach-cases/").json()

    assert [c["id"] for c in body["results"]] == [own.pk]


def test_a_customer_agrees_to_one_option(api, customer_user, offered):
    response = _post(api(customer_user), offered, "agree", option="true_up")

    assert response.status_code == 200 and response.json()["state"] == "remediation_agreed"
    offered.refresh_from_db()
    assert offered.agreed_by == customer_user


@pytest.mark.parametrize("move_name", ["review", "confirm", "dismiss", "escalate", "resolve"])
def test_a_customer_trying_another_move_on_its_own_case_gets_403(
    api, customer_user, case, move_name
):
    response = _post(api(customer_user), case, move_name, reason="Let me")

    assert response.status_code == 403
    case.refresh_from_db()
    assert case.state == S.DETECTED


def test_a_customer_may_not_classify_its_own_case(api, customer_user, case):
    response = api(customer_user).post(
        f"/api/v1/breach-cases/{case.pk}/classify/",
        {"classification": "inadvertent", "rationale": "Honest mistake"}, format="json",
    )  # fmt: skip

    assert response.status_code == 403


@pytest.mark.parametrize("path", ["", "agree/", "classify/", "communications/"])
def test_another_customers_case_is_404(api, other_customer_user, offered, path):
    client = api(other_customer_user)
    url = f"/api/v1/breach-cases/{offered.pk}/{path}"

    response = client.get(url) if not path or path == "communications/" else client.post(
        url, {"option": "true_up", "reason": "x"}, format="json"
    )  # fmt: skip

    assert response.status_code == 404
    offered.refresh_from_db()
    assert offered.state == S.REMEDIATION_OFFERED


def test_classify_takes_classification_and_rationale(api, manager, case):
    response = api(manager).post(
        f"/api/v1/breach-cases/{case.pk}/classify/",
        {"classification": "willful", "rationale": "Kept adding users after two warnings"},
        format="json",
    )  # fmt: skip

    assert response.status_code == 200
    assert (response.json()["classification"], response.json()["classification_rationale"]) == (
        "willful", "Kept adding users after two warnings",
    )  # fmt: skip
    assert response.json()["timeline"][-1]["kind"] == "classification"


def test_an_escalated_case_is_resolved_by_a_second_person(api, manager, case):
    other = UserFactory(username="omar", role=Role.ACCOUNT_MANAGER)
    case = move(manager, case, "escalate")

    asked = _post(api(manager), case, "dismiss", reason="Customer bought more seats")
    done = _post(api(other), case, "dismiss", reason="Agreed")

    assert (asked.status_code, asked.json()["state"]) == (202, "escalated")
    assert (done.status_code, done.json()["state"]) == (200, "dismissed")


def test_a_manager_drops_an_option_before_the_offer(api, manager, case):
    case = move(manager, case, "review", "confirm")

    response = api(manager).post(
        f"/api/v1/breach-cases/{case.pk}/options/grace_extension/",
        {"action": "drop", "reason": "Not for this customer"}, format="json",
    )  # fmt: skip

    grace = next(o for o in response.json()["options"] if o["kind"] == "grace_extension")
    assert response.status_code == 200 and grace["offered"] is False


def test_a_call_is_logged_with_an_attachment_and_shows_on_the_timeline(api, manager, case):
    response = api(manager).post(
        f"/api/v1/breach-cases/{case.pk}/communications/",
        {"kind": "call", "subject": "First call", "body": "They will remove 10 users",
         "occurred_at": "2026-03-14T10:00:00Z", "participants": "Nina, Maya",
         "reason": "Call notes", "attachments": [SimpleUploadedFile("notes.txt", b"notes")]},
        format="multipart",
    )  # fmt: skip

    assert response.status_code == 201
    entry = Communication.objects.get()
    attachment = entry.attachments.get()
    assert (attachment.size, attachment.sha256) == (5, hashlib.sha256(b"notes").hexdigest())
    timeline = api(manager).get(f"/api/v1/breach-cases/{case.pk}/").json()["timeline"]
    assert timeline[-1]["kind"] == "communication" and timeline[-1]["communication"] == entry.pk


def test_an_email_is_sent_from_a_template_through_the_outbox(api, manager, customer_a, case):
    customer_a.billing_email = "billing@northwind.test"
    customer_a.save()

    response = api(manager).post(
        f"/api/v1/breach-cases/{case.pk}/communications/",
        {"kind": "email", "template": "breach_notice", "reason": "First contact",
         "note": "Happy to talk this week."}, format="json",
    )  # fmt: skip

    assert response.status_code == 201
    entry = Communication.objects.get()
    assert entry.mail.recipients == ["billing@northwind.test"]
    assert "60 seats in use" in entry.body and "Happy to talk this week." in entry.mail.body


def test_an_unknown_template_is_400_under_its_field(api, manager, case):
    response = api(manager).post(
        f"/api/v1/breach-cases/{case.pk}/communications/",
        {"kind": "email", "template": "threat", "reason": "x"}, format="json",
    )  # fmt: skip

    assert response.status_code == 400 and "template" in response.json()
    assert not Communication.objects.exists()
