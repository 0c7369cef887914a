"""Deprovisioning's pages: what each role is offered, two-person rules, and customers kept out."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from licensing.deprovisioning import reconciliation, services
from licensing.deprovisioning.models import (
    BlackoutWindow,
    Delivery,
    DeprovisioningHold,
    DeprovisioningRun,
)
from licensing.models import Contract, PolicyVersion
from tests.factories import ContractFactory, EntitlementFactory
from tests.support import Snapshot

# Real commits: a run advances after its transaction commits, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

REASON = "Customer terminated for convenience, letter of 2 March"


def terminate_page(client, contract, **data):
    url = f"/deprovisioning/terminate/?contract={contract.pk}"
    today = timezone.localdate().isoformat()
    body = {"reason": REASON, "effective_date": today, "planned_for": today, **data}
    return client.post(url, body)


def started_run(manager, contract) -> DeprovisioningRun:
    _contract, run = services.contract_terminate(
        actor=manager, contract_id=contract.pk, reason=REASON, on=timezone.localdate()
    )
    return DeprovisioningRun.objects.get(pk=run.pk)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# Termination and its dry run ------------------------------------------------------------


@pytest.mark.django_db  # nothing here waits for a commit
def test_the_terminate_page_shows_the_dry_run_plan_and_changes_nothing(client, manager, estate):
    contract = estate["contract"]
    client.force_login(manager)
    before = Snapshot(contract)

    response = client.get(f"/deprovisioning/terminate/?contract={contract.pk}")

    page = response.content.decode()
    assert response.status_code == 200
    for words in ("Directory", "Roles", "License server", estate["user"], estate["member"],
                  "acct-7", "Deactivate the user", "Remove from the group",
                  "Send entitlement.revoked", "Renewal stops at once"):  # fmt: skip
        assert words in page, words
    assert before.unchanged(), before.changes()


def test_confirming_terminates_and_every_delivery_is_confirmed(client, manager, estate):
    contract = estate["contract"]
    client.force_login(manager)

    response = terminate_page(client, contract, confirm="1")

    run = DeprovisioningRun.objects.get(contract=contract)
    assert response.status_code == 302 and response["Location"] == f"/deprovisioning/runs/{run.pk}/"
    assert run.state == DeprovisioningRun.State.COMPLETED
    assert set(run.deliveries.values_list("state", flat=True)) == {Delivery.State.CONFIRMED}
    assert Contract.objects.get(pk=contract.pk).status == Contract.Status.TERMINATED
    assert AuditEvent.objects.filter(action="deprovisioning.complete").count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "3 of 3 confirmed by read-back" in page and run.notice_sha256 in page


@pytest.mark.django_db  # nothing here waits for a commit
def test_confirming_a_date_whose_plan_was_not_shown_shows_that_plan_first(client, manager, estate):
    contract = estate["contract"]
    client.force_login(manager)
    later = timezone.localdate() + timedelta(days=20)

    response = terminate_page(client, contract, confirm="1", effective_date=later.isoformat())

    assert response.status_code == 200
    assert "The effective date changed" in response.content.decode()
    assert not DeprovisioningRun.objects.exists()
    assert Contract.objects.get(pk=contract.pk).status == Contract.Status.ACTIVE


@pytest.mark.django_db  # nothing here waits for a commit
def test_a_termination_without_a_reason_is_refused_beside_the_field(client, manager, estate):
    contract = estate["contract"]
    client.force_login(manager)
    before = Snapshot(contract)

    response = terminate_page(client, contract, confirm="1", reason="")

    assert response.status_code == 400
    assert "Give a reason" in response.content.decode()
    assert before.unchanged(), before.changes()


@pytest.mark.django_db  # nothing here waits for a commit
@pytest.mark.parametrize("persona", ["auditor", "analyst"], indirect=True)
def test_roles_that_may_not_terminate_are_not_offered_it(client, persona, estate):
    contract = estate["contract"]
    client.force_login(persona)

    page = client.get(f"/deprovisioning/terminate/?contract={contract.pk}").content.decode()
    posted = terminate_page(client, contract, confirm="1")

    assert "it cannot be terminated" in page and "Terminate and deprovision</button>" not in page
    assert posted.status_code == 403 and not DeprovisioningRun.objects.exists()
    contract_page = client.get(contract.get_absolute_url()).content.decode()
    assert "/deprovisioning/terminate/" not in contract_page


@pytest.mark.django_db  # nothing here waits for a commit
def test_the_contract_page_offers_termination_only_through_its_dry_run(client, manager, estate):
    client.force_login(manager)

    page = client.get(estate["contract"].get_absolute_url()).content.decode()

    assert f"/deprovisioning/terminate/?contract={estate['contract'].pk}" in page
    assert 'value="terminate"' not in page
    assert 'id="deprovisioning"' in page and "Place a hold" in page


# Holds: placed by one person, lifted by another -----------------------------------------


def test_a_hold_placed_on_the_page_makes_the_run_wait_until_somebody_else_lifts_it(
    client, manager, manager2, estate, directory
):
    contract = estate["contract"]
    client.force_login(manager)
    placed = client.post(
        f"/deprovisioning/contracts/{contract.pk}/holds/",
        {"kind": "legal_hold", "reason": "Litigation", "next": contract.get_absolute_url()},
    )
    hold = DeprovisioningHold.objects.get()
    terminate_page(client, contract, confirm="1")
    run = DeprovisioningRun.objects.get()
    assert (placed.status_code, run.state) == (302, DeprovisioningRun.State.ON_HOLD)

    page = client.get(f"/deprovisioning/runs/{run.pk}/").content.decode()
    mine = client.get(contract.get_absolute_url()).content.decode()
    refused = client.post(f"/deprovisioning/holds/{hold.pk}/lift/", {"reason": "Settled"},
                          follow=True)  # fmt: skip
    assert "Waiting on 1 hold" in page and "waits on a hold; lift the hold first" in page
    assert "Somebody other than the person who placed a hold must lift it." in mine
    assert "Somebody other than the person who placed a hold must lift it." in messages_of(refused)
    assert DeprovisioningHold.objects.get().is_active
    assert directory.user(estate["user"]).active is True

    client.force_login(manager2)
    lifted = client.post(f"/deprovisioning/holds/{hold.pk}/lift/", {"reason": "Settled"},
                         follow=True)  # fmt: skip

    assert any("is lifted" in m for m in messages_of(lifted))
    assert DeprovisioningRun.objects.get().state == DeprovisioningRun.State.COMPLETED
    assert directory.user(estate["user"]).active is False
    assert DeprovisioningHold.objects.get().lifted_by == manager2


@pytest.mark.django_db  # nothing here waits for a commit
def test_a_hold_without_a_reason_is_refused_beside_the_field(client, manager, estate):
    contract = estate["contract"]
    client.force_login(manager)

    response = client.post(
        f"/deprovisioning/contracts/{contract.pk}/holds/", {"kind": "legal_hold", "reason": ""}
    )

    assert response.status_code == 400 and "Give a reason" in response.content.decode()
    assert not DeprovisioningHold.objects.exists()


def test_a_blackout_window_added_on_the_page_defers_the_run(client, manager, estate):
    contract = estate["contract"]
    client.force_login(manager)
    today = timezone.localdate()
    ends = today + timedelta(days=7)

    added = client.post(
        f"/deprovisioning/contracts/{contract.pk}/blackouts/",
        {"starts_on": today.isoformat(), "ends_on": ends.isoformat(), "reason": "Year-end freeze"},
    )
    terminate_page(client, contract, confirm="1")

    assert added.status_code == 302 and BlackoutWindow.objects.get().ends_on == ends
    run = DeprovisioningRun.objects.get()
    assert (run.state, run.execute_on) == (DeprovisioningRun.State.NOTIFIED, ends)


# The run page ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona,offered",
    [("manager", True), ("admin_user", True), ("auditor", False), ("analyst", False)],
    indirect=["persona"],
)
def test_the_run_page_offers_actions_only_to_those_who_may_act(
    client, manager, persona, offered, estate
):
    run = started_run(manager, estate["contract"])
    client.force_login(persona)

    page = client.get(f"/deprovisioning/runs/{run.pk}/").content.decode()

    assert ("Request a rollback</button>" in page) is offered
    assert ("Your role reads runs" in page) is not offered
    assert "Revocation policy v1" in page


def test_an_auditor_cannot_execute_a_run_and_nothing_changes(client, auditor, manager, estate):
    later = timezone.localdate() + timedelta(days=5)
    _contract, run = services.contract_terminate(
        actor=manager, contract_id=estate["contract"].pk, reason=REASON, effective_date=later,
        on=timezone.localdate(),
    )  # fmt: skip
    client.force_login(auditor)
    before = Snapshot(run)

    response = client.post(f"/deprovisioning/runs/{run.pk}/execute/", {"reason": "Now"},
                           follow=True)  # fmt: skip

    assert "Your role may not execute deprovisioning runs." in messages_of(response)
    assert before.unchanged(), before.changes()


def test_a_rollback_needs_a_second_person_on_the_page(client, manager, manager2, estate, directory):
    run = started_run(manager, estate["contract"])
    client.force_login(manager)
    client.post(f"/deprovisioning/runs/{run.pk}/rollback/", {"reason": "Terminated in error"})

    page = client.get(f"/deprovisioning/runs/{run.pk}/").content.decode()
    refused = client.post(f"/deprovisioning/runs/{run.pk}/rollback/approve/", {"reason": "Yes"},
                          follow=True)  # fmt: skip
    assert "Somebody other than the person who asked for a rollback must approve it." in page
    assert "Approve and restore</button>" not in page
    assert any("Somebody other than" in m for m in messages_of(refused))
    assert DeprovisioningRun.objects.get(pk=run.pk).state == DeprovisioningRun.State.COMPLETED

    client.force_login(manager2)
    offered = client.get(f"/deprovisioning/runs/{run.pk}/").content.decode()
    client.post(f"/deprovisioning/runs/{run.pk}/rollback/approve/", {"reason": "Confirmed"})

    assert "Approve and restore</button>" in offered
    assert DeprovisioningRun.objects.get(pk=run.pk).state == DeprovisioningRun.State.ROLLED_BACK
    assert directory.user(estate["user"]).active is True


def test_the_notice_pdf_is_served_with_the_hash_the_run_keeps(client, manager, estate):
    import hashlib

    run = started_run(manager, estate["contract"])
    client.force_login(manager)

    response = client.get(f"/deprovisioning/runs/{run.pk}/notice.pdf")

    assert response["Content-Type"] == "application/pdf"
    assert hashlib.sha256(response.content).hexdigest() == run.notice_sha256


def test_the_run_page_reads_in_a_fixed_number_of_queries(
    client, manager, estate, django_assert_num_queries
):
    run = started_run(manager, estate["contract"])
    client.force_login(manager)
    client.get(f"/deprovisioning/runs/{run.pk}/")  # the session and permissions, once

    with django_assert_num_queries(RUN_PAGE_QUERIES):
        client.get(f"/deprovisioning/runs/{run.pk}/")
    more = EntitlementFactory(contract=estate["contract"])
    services.assignment_create(actor=manager, entitlement=more, system=estate["systems"][0],
                               external_id="someone")  # fmt: skip
    services._plan_deliveries(run, run.policy)
    with django_assert_num_queries(RUN_PAGE_QUERIES):
        client.get(f"/deprovisioning/runs/{run.pk}/")


RUN_PAGE_QUERIES = 12


# Review queue, systems, policies, dashboard ----------------------------------------------


@pytest.fixture
def escalated(settings, admin_user, manager):
    """A run whose one webhook delivery escalated: its system refuses every attempt."""
    from licensing.deprovisioning.connectors.webhook import new_webhook_secret

    settings.DEBUG = True
    system = services.connected_system_create(
        actor=admin_user, name="Down", kind="license_server", protocol="webhook",
        base_url="http://127.0.0.1:9/hooks", secret=new_webhook_secret(), timeout=1,
    )  # fmt: skip
    contract = ContractFactory(grace_days=0)
    key = EntitlementFactory(contract=contract, kind="product_key", quantity=1)
    services.assignment_create(actor=admin_user, entitlement=key, system=system,
                               external_id="acct-9")  # fmt: skip
    return started_run(manager, contract)


def test_the_review_queue_offers_managers_to_send_an_escalated_delivery_again(
    client, manager, auditor, escalated
):
    assert escalated.state == DeprovisioningRun.State.FAILED
    client.force_login(manager)
    page = client.get("/deprovisioning/review/").content.decode()
    client.force_login(auditor)
    read_only = client.get("/deprovisioning/review/").content.decode()

    assert "acct-9" in page and "Send again</button>" in page
    assert "acct-9" in read_only and "Send again</button>" not in read_only


def test_the_review_queue_reads_in_a_fixed_number_of_queries(
    client, manager, escalated, django_assert_num_queries
):
    client.force_login(manager)
    client.get("/deprovisioning/review/")

    with django_assert_num_queries(REVIEW_QUERIES):
        client.get("/deprovisioning/review/")


REVIEW_QUERIES = 8


def test_reconcile_now_on_the_system_page_repairs_drift(client, manager, estate, directory):
    run = started_run(manager, estate["contract"])
    assert run.state == DeprovisioningRun.State.COMPLETED
    directory.set_active(estate["user"], True)  # behind our back
    idp = estate["systems"][0]
    client.force_login(manager)

    response = client.post(f"/deprovisioning/systems/{idp.pk}/reconcile/", follow=True)

    assert any("1 disagreeing, 1 repaired" in m for m in messages_of(response))
    assert directory.user(estate["user"]).active is False
    assert "Reconcile now" in response.content.decode()


@pytest.mark.django_db  # nothing here waits for a commit
def test_an_auditor_reads_systems_without_a_reconcile_button(client, auditor, estate):
    client.force_login(auditor)

    listed = client.get("/deprovisioning/systems/").content.decode()
    detail = client.get(f"/deprovisioning/systems/{estate['systems'][0].pk}/").content.decode()

    assert "Directory" in listed and "Reconcile now" not in listed + detail
    assert "sealed at rest" in detail


@pytest.mark.django_db  # nothing here waits for a commit
def test_the_systems_list_reads_in_a_fixed_number_of_queries(
    client, manager, estate, django_assert_num_queries
):
    client.force_login(manager)
    client.get("/deprovisioning/systems/")

    with django_assert_num_queries(SYSTEMS_QUERIES):
        client.get("/deprovisioning/systems/")


SYSTEMS_QUERIES = 6


def policy_body(**changes):
    body = {
        "summary": "Fourteen days' notice before execution", "effective_from":
        (timezone.localdate() + timedelta(days=1)).isoformat(), "notice_lead_days": 14,
        "max_grace_days": 90, "max_attempts": 5, "nonpayment_days_after_due": 30,
        "suppress_renewal": "on", "revoke_1": "api_quota", "revoke_2": "feature_flag",
        "revoke_3": "role_permission", "revoke_4": "product_key", "revoke_5": "seat_pool",
        "reason": "Legal asks for notice",
    }  # fmt: skip
    return {**body, **changes}


@pytest.mark.django_db  # nothing here waits for a commit
def test_a_policy_drafted_by_one_manager_is_published_only_by_another(client, manager, manager2):
    client.force_login(manager)
    drafted = client.post("/deprovisioning/policies/draft/", policy_body())
    draft = PolicyVersion.objects.get(kind="revocation", number=2)
    page = client.get(f"/deprovisioning/policies/{draft.pk}/").content.decode()
    refused = client.post(f"/deprovisioning/policies/{draft.pk}/publish/", {"reason": "Go"},
                          follow=True)  # fmt: skip

    assert drafted.status_code == 302 and draft.rules["notice_lead_days"] == 14
    assert "Somebody other than its drafter must publish a policy." in page
    assert "Somebody other than its drafter must publish a policy." in messages_of(refused)
    assert PolicyVersion.objects.get(pk=draft.pk).status == "draft"

    client.force_login(manager2)
    client.post(f"/deprovisioning/policies/{draft.pk}/publish/", {"reason": "Reviewed"})

    assert PolicyVersion.objects.get(pk=draft.pk).status == "published"
    assert PolicyVersion.objects.get(pk=draft.pk).published_by == manager2


@pytest.mark.django_db  # nothing here waits for a commit
def test_a_policy_draft_with_an_unknown_kind_is_refused_by_the_field(client, manager):
    client.force_login(manager)

    response = client.post("/deprovisioning/policies/draft/", policy_body(revoke_2="tokens"))

    page = response.content.decode()
    assert response.status_code == 400 and "Choose a kind of entitlement from the list." in page
    assert "Nothing was saved: correct what is marked below." in page
    assert not PolicyVersion.objects.filter(kind="revocation", number=2).exists()


@pytest.mark.django_db  # nothing here waits for a commit
def test_the_revocation_order_is_chosen_by_name_one_select_per_position(client, manager):
    client.force_login(manager)

    page = client.get("/deprovisioning/policies/").content.decode()

    assert '<select name="revoke_1"' in page and '<select name="revoke_5"' in page
    # The order in force is filled in, by name: API quota first, seat pool last.
    assert '<option value="api_quota" selected>API quota</option>' in page
    assert '<option value="seat_pool" selected>Seat pool</option>' in page
    assert 'name="revoke_order"' not in page


@pytest.mark.django_db  # nothing here waits for a commit
def test_a_kind_chosen_twice_is_refused_beside_the_second_position_and_nothing_is_saved(
    client, manager
):
    client.force_login(manager)

    response = client.post(
        "/deprovisioning/policies/draft/", policy_body(revoke_1="seat_pool", revoke_5="seat_pool")
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "Seat pool is already chosen first: choose each kind once." in page
    assert page.index("already chosen first") > page.index('name="revoke_5"')
    assert not PolicyVersion.objects.filter(kind="revocation", number=2).exists()


@pytest.mark.django_db  # nothing here waits for a commit
def test_positions_left_unnamed_leave_those_kinds_to_be_revoked_last(client, manager):
    client.force_login(manager)

    client.post(
        "/deprovisioning/policies/draft/",
        policy_body(revoke_1="seat_pool", revoke_2="", revoke_3="api_quota", revoke_4="",
                    revoke_5=""),
    )  # fmt: skip

    draft = PolicyVersion.objects.get(kind="revocation", number=2)
    assert draft.rules["revoke_order"] == ["seat_pool", "api_quota"]


@pytest.mark.django_db  # nothing here waits for a commit
def test_an_auditor_reads_policies_and_is_offered_no_draft(client, auditor):
    client.force_login(auditor)

    page = client.get("/deprovisioning/policies/").content.decode()

    assert "Revocation policies" in page and "Draft a new version" not in page


def test_the_dashboard_measures_time_to_revoke(client, manager, estate):
    run = started_run(manager, estate["contract"])
    client.force_login(manager)

    response = client.get("/deprovisioning/")

    assert response.status_code == 200
    assert response.context["measured"] == 1 and response.context["median"] != "—"
    assert 'data-chart="ttr-chart"' in response.content.decode()
    assert run.contract.number in response.content.decode()


def test_the_dashboard_reads_in_a_fixed_number_of_queries(
    client, manager, estate, escalated, django_assert_num_queries
):
    started_run(manager, estate["contract"])
    client.force_login(manager)
    client.get("/deprovisioning/")

    with django_assert_num_queries(DASHBOARD_QUERIES):
        client.get("/deprovisioning/")


DASHBOARD_QUERIES = 11


@pytest.mark.django_db
def test_time_to_revoke_percentiles_are_durations_that_happened():
    from licensing.deprovisioning.selectors import median, percentile

    durations = [timedelta(seconds=s) for s in (5, 1, 3, 100, 2)]

    assert (median(durations), percentile(durations, 95)) == (
        timedelta(seconds=3), timedelta(seconds=100)
    )  # fmt: skip
    assert median(durations[:4]) == timedelta(seconds=4)


# Customers never ------------------------------------------------------------------------


CUSTOMER_PAGES = [
    "/deprovisioning/", "/deprovisioning/review/", "/deprovisioning/systems/",
    "/deprovisioning/policies/", "/deprovisioning/terminate/?contract={contract}",
    "/deprovisioning/contracts/{contract}/", "/deprovisioning/runs/{run}/",
    "/deprovisioning/runs/{run}/notice.pdf", "/deprovisioning/systems/{system}/",
]  # fmt: skip


@pytest.mark.parametrize("path", CUSTOMER_PAGES)
def test_a_customer_gets_a_404_even_for_their_own_contract(
    client, manager, customer_user, customer_a, estate, path
):
    contract = estate["contract"]
    Contract.objects.filter(pk=contract.pk).update(customer=customer_a)
    run = started_run(manager, contract)
    client.force_login(customer_user)

    response = client.get(path.format(contract=contract.pk, run=run.pk,
                                      system=estate["systems"][0].pk))  # fmt: skip

    assert response.status_code == 404
    assert contract.number not in response.content.decode()


@pytest.mark.django_db  # nothing here waits for a commit
def test_a_customer_cannot_place_a_hold_on_their_own_contract(client, customer_user, customer_a):
    contract = ContractFactory(customer=customer_a)
    client.force_login(customer_user)

    response = client.post(
        f"/deprovisioning/contracts/{contract.pk}/holds/", {"kind": "legal_hold", "reason": "x"}
    )

    assert response.status_code == 404 and not DeprovisioningHold.objects.exists()


def test_rollback_pending_is_false_once_approved(manager, manager2, estate):
    run = started_run(manager, estate["contract"])
    run = reconciliation.rollback_request(actor=manager, run_id=run.pk, reason="Error")
    assert reconciliation.rollback_pending(run)

    run = reconciliation.rollback_approve(
        actor=manager2, run_id=run.pk, reason="Ok", on=timezone.localdate()
    )

    assert not reconciliation.rollback_pending(run)


@pytest.mark.parametrize("seconds, words", [
    (None, "—"), (0.2, "under 1 s"), (42, "42 s"), (125, "2 min 5 s"), (3 * 3600 + 60, "3 h 1 min"),
    (3 * 86400 + 7200, "3 days 2 h"),
])  # fmt: skip
def test_the_dashboard_says_times_to_revoke_as_a_person_would(seconds, words):
    from datetime import timedelta

    from licensing.deprovisioning.views import _fmt

    assert _fmt(None if seconds is None else timedelta(seconds=seconds)) == words
