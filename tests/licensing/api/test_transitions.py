"""Lifecycle transitions through the API: who may make them, what they answer, what they record."""

from datetime import date, timedelta
from functools import partial

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from licensing import services
from licensing.models import Contract, Entitlement
from tests.factories import ContractFactory, EntitlementFactory, admin_actor
from tests.support import Snapshot, race

pytestmark = pytest.mark.django_db

S = Entitlement.State
ENDED = {"starts_on": date(2025, 1, 1), "ends_on": date(2026, 1, 1)}
TERM_ENDED = {"term_start": date(2025, 1, 1), "term_end": date(2026, 1, 1)}


def contract_in(status: str, **kwargs) -> Contract:
    contract = ContractFactory(active=status != "draft", **kwargs)
    path = {"draft": [], "active": [], "suspended": ["suspend"], "terminated": ["terminate"]}
    for step in path[status]:
        contract = services.contract_transition(
            actor=admin_actor(), contract_id=contract.pk, transition=step, reason="Setup"
        )
    return contract


def transition(client, obj, name: str, body=None):
    noun = "contracts" if isinstance(obj, Contract) else "entitlements"
    body = {"reason": "Customer asked"} if body is None else body
    return client.post(f"/api/v1/{noun}/{obj.pk}/{name}/", body, format="json")


# Contracts


@pytest.mark.parametrize(
    ("start", "name", "end", "setup"),
    [
        ("draft", "activate", "active", {}),
        ("active", "suspend", "suspended", {}),
        ("suspended", "resume", "active", {}),
        ("active", "terminate", "terminated", {}),
        ("suspended", "terminate", "terminated", {}),
        ("active", "expire", "expired", TERM_ENDED),
    ],
)
def test_a_legal_contract_transition_answers_the_changed_contract(
    api, manager, start, name, end, setup
):
    contract = contract_in(start, **setup)

    response = transition(api(manager), contract, name)

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["version"]) == (end, contract.version + 1)
    contract.refresh_from_db()
    assert contract.status == end


def test_a_contract_transition_records_history_and_one_audit_event(api, manager):
    contract = ContractFactory()
    events_before = AuditEvent.objects.count()

    transition(api(manager), contract, "suspend", {"reason": "Invoice 42 unpaid"})

    history = contract.history.latest()
    assert (history.status, history.history_user, history.history_change_reason) == (
        "suspended",
        manager,
        "Invoice 42 unpaid",
    )
    assert AuditEvent.objects.count() == events_before + 1
    event = AuditEvent.objects.latest("seq")
    assert (event.action, event.object_id, event.actor, event.reason) == (
        "contract.suspend",
        str(contract.pk),
        manager,
        "Invoice 42 unpaid",
    )
    assert (event.data["from"], event.data["to"]) == ("active", "suspended")
    assert event.policy_version == "lifecycle/v2"


@pytest.mark.parametrize(
    ("start", "name", "message"),
    [
        ("draft", "suspend", "it is draft"),
        ("active", "activate", "it is active"),
        ("terminated", "resume", "it is terminated"),
        ("active", "expire", "its end date has not passed"),
    ],
)
def test_an_illegal_contract_transition_answers_409_and_changes_nothing(
    api, manager, start, name, message
):
    contract = contract_in(start)
    before = Snapshot(contract)

    response = transition(api(manager), contract, name)

    assert response.status_code == 409
    assert message in response.json()["detail"]
    assert before.unchanged()
    contract.refresh_from_db()
    assert contract.status == start


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("manager", 200),
        ("admin_user", 200),
        ("analyst", 403),
        ("approver", 403),
        ("controller", 403),
        ("auditor", 403),
        ("customer_user", 403),
        ("other_customer_user", 404),
    ],
    indirect=["persona"],
)
def test_only_account_managers_and_admins_transition_contracts(api, customer_a, persona, status):
    contract = ContractFactory(customer=customer_a)
    before = Snapshot(contract)

    response = transition(api(persona), contract, "suspend")

    assert response.status_code == status
    contract.refresh_from_db()
    assert contract.status == ("suspended" if status == 200 else "active")
    assert before.unchanged() == (status != 200)


def test_an_auditor_is_refused_before_the_request_body_is_read(api, auditor):
    contract = ContractFactory()

    response = transition(api(auditor), contract, "suspend", body={})

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "Unpaid", "version": 0}, "version"),
        ({"reason": "Unpaid", "version": "two"}, "version"),
    ],
)
def test_a_contract_transition_without_a_valid_body_answers_400_on_the_field(
    api, manager, body, field
):
    contract = ContractFactory()
    before = Snapshot(contract)

    response = transition(api(manager), contract, "suspend", body=body)

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert before.unchanged()


@pytest.mark.parametrize(("sent", "status"), [(2, 200), (1, 409)])
def test_a_contract_transition_with_a_version_applies_only_to_that_version(
    api, manager, sent, status
):
    contract = ContractFactory()  # version 2: created, then activated
    assert contract.version == 2

    response = transition(api(manager), contract, "suspend", {"reason": "Unpaid", "version": sent})

    assert response.status_code == status
    contract.refresh_from_db()
    assert contract.status == ("suspended" if status == 200 else "active")


def test_a_stale_contract_version_says_someone_else_changed_it(api, manager):
    contract = ContractFactory()

    response = transition(api(manager), contract, "suspend", {"reason": "Unpaid", "version": 1})

    assert "changed by someone else" in response.json()["detail"]


def test_a_transition_that_contracts_do_not_have_is_not_found(api, manager):
    contract = ContractFactory()

    response = transition(api(manager), contract, "start_grace")

    assert response.status_code == 404


def test_transitioning_a_contract_that_does_not_exist_is_not_found(api, manager):
    response = api(manager).post("/api/v1/contracts/999999/suspend/", {"reason": "x"})

    assert response.status_code == 404


def test_a_transition_only_accepts_post(api, manager):
    contract = ContractFactory()

    response = api(manager).get(f"/api/v1/contracts/{contract.pk}/suspend/")

    assert response.status_code == 405


# Entitlements


@pytest.mark.parametrize(
    ("start", "name", "end", "setup"),
    [
        (S.PENDING, "activate", S.ACTIVE, {}),
        (S.ACTIVE, "suspend", S.SUSPENDED, {}),
        (S.SUSPENDED, "resume", S.ACTIVE, {}),
        (S.ACTIVE, "start_grace", S.GRACE, {}),
        (S.GRACE, "hold", S.HELD, {}),
        (S.HELD, "release_hold", S.ACTIVE, {}),
        (S.ACTIVE, "revoke", S.REVOKED, {}),
        (S.REVOKED, "restore", S.RESTORED, {}),
        (S.RESTORED, "activate", S.ACTIVE, {}),
        (S.ACTIVE, "expire", S.EXPIRED, ENDED),
    ],
)
def test_a_legal_entitlement_transition_answers_the_changed_entitlement(
    api, manager, start, name, end, setup
):
    entitlement = EntitlementFactory(state=start, **setup)

    response = transition(api(manager), entitlement, name)

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["state"], body["version"]) == (
        entitlement.pk,
        end,
        entitlement.version + 1,
    )
    entitlement.refresh_from_db()
    assert entitlement.state == end


def test_releasing_a_hold_returns_to_the_state_it_was_held_from(api, manager):
    entitlement = EntitlementFactory(state=S.GRACE)
    transition(api(manager), entitlement, "hold")

    response = transition(api(manager), entitlement, "release_hold")

    assert (response.json()["state"], response.json()["held_from"]) == ("grace", "")


def test_starting_grace_answers_when_grace_ends(api, manager):
    entitlement = EntitlementFactory(contract=ContractFactory(grace_days=14))

    response = transition(api(manager), entitlement, "start_grace")

    expected = timezone.localdate() + timedelta(days=14)
    assert response.json()["grace_ends_on"] == expected.isoformat()


@pytest.mark.parametrize(
    ("start", "name", "delta"),
    [
        (S.ACTIVE, "suspend", 0),
        (S.ACTIVE, "revoke", -10),
        (S.REVOKED, "restore", 10),
        (S.PENDING, "activate", 10),
    ],
)
def test_an_entitlement_transition_writes_one_ledger_entry(api, manager, start, name, delta):
    entitlement = EntitlementFactory(state=start, quantity=10)
    ledger_before = entitlement.ledger.count()

    response = transition(api(manager), entitlement, name, {"reason": "Per ticket 7"})

    assert entitlement.ledger.count() == ledger_before + 1
    entry = entitlement.ledger.latest("id")
    assert (entry.action, entry.quantity_delta, entry.state_after) == (
        name,
        delta,
        response.json()["state"],
    )
    assert (entry.actor, entry.reason, entry.contract_id) == (
        manager,
        "Per ticket 7",
        entitlement.contract_id,
    )
    assert entry.effective_date == timezone.localdate()


def test_an_entitlement_transition_records_history_and_one_audit_event(api, manager):
    entitlement = EntitlementFactory()
    events_before = AuditEvent.objects.count()
    history_before = entitlement.history.count()

    transition(api(manager), entitlement, "revoke", {"reason": "Seats resold"})

    assert entitlement.history.count() == history_before + 1
    history = entitlement.history.latest()
    assert (history.state, history.history_user, history.history_change_reason) == (
        "revoked",
        manager,
        "Seats resold",
    )
    assert AuditEvent.objects.count() == events_before + 1
    event = AuditEvent.objects.latest("seq")
    assert (event.action, event.object_id, event.actor, event.reason) == (
        "entitlement.revoke",
        str(entitlement.pk),
        manager,
        "Seats resold",
    )
    assert event.data == {
        "from": "active",
        "to": "revoked",
        "quantity_delta": -10,
        "effective_date": timezone.localdate().isoformat(),
        "contract": entitlement.contract_id,
    }


@pytest.mark.parametrize(
    ("start", "name", "setup", "message"),
    [
        (S.PENDING, "suspend", {}, "it is pending"),
        (S.REVOKED, "suspend", {}, "it is revoked"),
        (S.HELD, "revoke", {}, "it is on hold"),
        (S.EXPIRED, "activate", ENDED, "it is expired"),
        (S.ACTIVE, "expire", {}, "its end date has not passed"),
    ],
)
def test_an_illegal_entitlement_transition_answers_409_and_changes_nothing(
    api, manager, start, name, setup, message
):
    entitlement = EntitlementFactory(state=start, **setup)
    before = Snapshot(entitlement)

    response = transition(api(manager), entitlement, name)

    assert response.status_code == 409
    assert message in response.json()["detail"]
    assert before.unchanged()
    entitlement.refresh_from_db()
    assert entitlement.state == start


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("manager", 200),
        ("admin_user", 200),
        ("analyst", 403),
        ("approver", 403),
        ("controller", 403),
        ("auditor", 403),
        ("customer_user", 403),
        ("other_customer_user", 404),
    ],
    indirect=["persona"],
)
def test_only_account_managers_and_admins_transition_entitlements(api, customer_a, persona, status):
    entitlement = EntitlementFactory(contract=ContractFactory(customer=customer_a))
    before = Snapshot(entitlement)

    response = transition(api(persona), entitlement, "suspend")

    assert response.status_code == status
    entitlement.refresh_from_db()
    assert entitlement.state == (S.SUSPENDED if status == 200 else S.ACTIVE)
    assert before.unchanged() == (status != 200)


def test_a_customer_user_cannot_learn_that_another_customers_entitlement_exists(
    api, other_customer_user, customer_a
):
    entitlement = EntitlementFactory(contract=ContractFactory(customer=customer_a))

    unknown = transition(api(other_customer_user), entitlement, "suspend")
    missing = api(other_customer_user).post("/api/v1/entitlements/999999/suspend/", {"reason": "x"})

    assert (unknown.status_code, missing.status_code) == (404, 404)
    assert unknown.json().keys() == missing.json().keys() == {"detail"}


def test_an_entitlement_transition_without_a_reason_answers_400_on_reason(api, manager):
    entitlement = EntitlementFactory()
    before = Snapshot(entitlement)

    response = transition(api(manager), entitlement, "suspend", body={"version": 2})

    assert response.status_code == 400
    assert list(response.json()) == ["reason"]
    assert before.unchanged()


@pytest.mark.parametrize(("sent", "status"), [(2, 200), (1, 409), (3, 409)])
def test_an_entitlement_transition_with_a_version_applies_only_to_that_version(
    api, manager, sent, status
):
    entitlement = EntitlementFactory()  # version 2: granted, then activated
    assert entitlement.version == 2
    before = Snapshot(entitlement)

    response = transition(api(manager), entitlement, "suspend", {"reason": "x", "version": sent})

    assert response.status_code == status
    assert before.unchanged() == (status == 409)


def test_a_second_transition_with_the_same_version_loses(api, manager, admin_user):
    entitlement = EntitlementFactory()
    read = api(manager).get(f"/api/v1/entitlements/{entitlement.pk}/").json()["version"]
    transition(api(admin_user), entitlement, "hold", {"reason": "Dispute", "version": read})

    response = transition(api(manager), entitlement, "suspend", {"reason": "x", "version": read})

    assert response.status_code == 409
    assert "now on hold" in response.json()["detail"]
    entitlement.refresh_from_db()
    assert entitlement.state == S.HELD


def test_a_transition_that_entitlements_do_not_have_is_not_found(api, manager):
    entitlement = EntitlementFactory()

    response = transition(api(manager), entitlement, "terminate")

    assert response.status_code == 404


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_version", [True, False], ids=["versioned", "unversioned"])
def test_of_two_simultaneous_transitions_one_wins_and_the_other_answers_409(
    api, manager, admin_user, with_version
):
    entitlement = EntitlementFactory()
    body = {"reason": "Race"} | ({"version": entitlement.version} if with_version else {})
    clients = [api(manager), api(admin_user)]
    outcomes = race(
        [partial(transition, client, entitlement, "suspend", body) for client in clients]
    )
    statuses = [outcome.status_code for outcome in outcomes]

    assert sorted(statuses) == [200, 409]
    assert entitlement.ledger.filter(action="suspend").count() == 1
    assert AuditEvent.objects.filter(action="entitlement.suspend").count() == 1
    assert entitlement.history.filter(state="suspended").count() == 1
