"""End to end: terminating a contract takes back what it granted at real local systems."""

from datetime import timedelta

import pytest
from django.utils import timezone

from licensing.deprovisioning import services
from licensing.deprovisioning.models import Delivery, DeprovisioningRun
from licensing.deprovisioning.testing import WebhookReceiver, serve_in_thread
from licensing.models import Entitlement, LedgerEntry
from licensing.roles import Role
from outbox.models import Mail
from tests.factories import ContractFactory, EntitlementFactory, UserFactory
from tests.licensing.deprovisioning import SCIM_TOKEN

# Real commits: a run advances after its transaction commits, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

KEYS = {"id", "contract", "state", "policy_version", "plan", "deliveries"}


@pytest.fixture
def manager2(db):
    return UserFactory(username="manager2", role=Role.ACCOUNT_MANAGER)


@pytest.fixture
def flaky_receiver(webhook_secret):
    # Fails its first two attempts, then accepts: the sender's retries must get it confirmed.
    return WebhookReceiver(secret=webhook_secret, fail_next=2, holders={"acct-7": True})


@pytest.fixture
def flaky_url(flaky_receiver):
    with serve_in_thread(flaky_receiver) as root:
        yield root


@pytest.fixture
def estate(settings, admin_user, directory, flaky_url, webhook_secret):
    """A contract holding seats, keys and roles in three systems, every holder assigned."""
    settings.DEBUG = True  # loopback base URLs are accepted in debug only
    idp = services.connected_system_create(
        actor=admin_user, name="Directory", kind="identity_provider", protocol="scim2",
        base_url=directory.base_url, secret=SCIM_TOKEN,
    )  # fmt: skip
    roles = services.connected_system_create(
        actor=admin_user, name="Roles", kind="identity_provider", protocol="scim2",
        base_url=directory.base_url, secret=SCIM_TOKEN,
    )  # fmt: skip
    keys = services.connected_system_create(
        actor=admin_user, name="License server", kind="license_server", protocol="webhook",
        base_url=flaky_url, secret=webhook_secret,
    )  # fmt: skip
    user = directory.add_user("alice")
    member = directory.add_user("bob")
    group = directory.add_group("admins", members=[member])
    contract = ContractFactory(grace_days=0)
    seats = EntitlementFactory(contract=contract, kind="seat_pool")
    key = EntitlementFactory(contract=contract, kind="product_key", quantity=1)
    role = EntitlementFactory(contract=contract, kind="role_permission", quantity=1)
    services.assignment_create(actor=admin_user, entitlement=seats, system=idp, external_id=user)
    services.assignment_create(actor=admin_user, entitlement=key, system=keys, external_id="acct-7")
    services.assignment_create(
        actor=admin_user, entitlement=role, system=roles, external_id=member, group_id=group
    )
    return {"contract": contract, "user": user, "member": member, "group": group,
            "systems": (idp, roles, keys), "entitlements": (seats, key, role)}  # fmt: skip


def terminate(api, user, contract, **body):
    return api(user).post(
        f"/api/v1/contracts/{contract.pk}/terminate/", {"reason": "Breach", **body}, format="json"
    )


def test_terminating_revokes_everywhere_and_every_delivery_is_confirmed(
    api, manager, estate, directory, flaky_receiver
):
    response = terminate(api, manager, estate["contract"])

    assert response.status_code == 200
    assert response.json()["status"] == "terminated"
    run = api(manager).get(f"/api/v1/deprovisioning-runs/{response.json()['deprovisioning_run']}/")
    body = run.json()
    assert set(body) == KEYS
    assert (body["state"], body["policy_version"]) == ("completed", "revocation/v1")
    assert [d["state"] for d in body["deliveries"]] == ["confirmed"] * 3
    assert directory.user(estate["user"]).active is False
    assert estate["member"] not in directory.members(estate["group"])
    assert flaky_receiver.holders["acct-7"] is False
    # Three attempts, one idempotency key: the receiver applied the revocation once.
    assert len(set(flaky_receiver.attempts)) == 1 and len(flaky_receiver.attempts) == 3
    webhook = next(d for d in body["deliveries"] if d["external_id"] == "acct-7")
    assert webhook["attempts"] == 3 and webhook["idempotency_key"] == flaky_receiver.attempts[0]
    assert set(Entitlement.objects.values_list("state", "renewal")) == {("revoked", "none")}
    assert LedgerEntry.objects.filter(action="revoke").count() == 3


def test_the_run_records_its_notice_and_mails_customer_and_manager(api, manager, estate):
    contract = estate["contract"]

    run_id = terminate(api, manager, contract).json()["deprovisioning_run"]

    run = DeprovisioningRun.objects.get(pk=run_id)
    assert bytes(run.notice_pdf).startswith(b"%PDF")
    import hashlib

    assert run.notice_sha256 == hashlib.sha256(bytes(run.notice_pdf)).hexdigest()
    mail = Mail.objects.get(kind="deprovisioning.notice")
    assert contract.customer.billing_email in mail.recipients
    assert run.notice_sha256 in mail.body


def test_the_plan_names_each_holder_system_action_and_date(api, manager, estate):
    run_id = terminate(api, manager, estate["contract"]).json()["deprovisioning_run"]

    plan = api(manager).get(f"/api/v1/deprovisioning-runs/{run_id}/").json()["plan"]

    today = timezone.localdate().isoformat()
    assert {(p["external_id"], p["action"], p["scheduled_for"]) for p in plan} == {
        (estate["user"], "revoke", today), ("acct-7", "revoke", today),
        (estate["member"], "revoke", today),
    }  # fmt: skip


def test_a_hold_blocks_execution_until_somebody_else_lifts_it(
    api, manager, manager2, estate, directory
):
    contract = estate["contract"]
    hold = api(manager).post(
        f"/api/v1/contracts/{contract.pk}/holds/",
        {"kind": "legal_hold", "reason": "Litigation"}, format="json",
    )  # fmt: skip
    assert hold.status_code == 201 and set(hold.json()) == {"id"}
    run_id = terminate(api, manager, contract).json()["deprovisioning_run"]
    assert DeprovisioningRun.objects.get(pk=run_id).state == "on_hold"

    execute = api(manager).post(
        f"/api/v1/deprovisioning-runs/{run_id}/execute/", {"reason": "Now"}, format="json"
    )
    by_placer = api(manager).post(
        f"/api/v1/holds/{hold.json()['id']}/lift/", {"reason": "Settled"}, format="json"
    )
    assert (execute.status_code, by_placer.status_code) == (409, 403)
    assert directory.user(estate["user"]).active is True

    lifted = api(manager2).post(
        f"/api/v1/holds/{hold.json()['id']}/lift/", {"reason": "Settled"}, format="json"
    )

    assert lifted.status_code == 200
    assert DeprovisioningRun.objects.get(pk=run_id).state == "completed"
    assert directory.user(estate["user"]).active is False


def test_grace_is_respected_then_the_nightly_job_revokes(api, manager, estate, directory):
    contract = estate["contract"]
    contract.grace_days = 10
    contract.save(update_fields=["grace_days"])
    run_id = terminate(api, manager, contract).json()["deprovisioning_run"]
    today = timezone.localdate()

    assert DeprovisioningRun.objects.get(pk=run_id).state == "executing"
    assert set(Entitlement.objects.values_list("state", "grace_ends_on")) == {
        ("grace", today + timedelta(days=10))
    }
    assert directory.user(estate["user"]).active is True
    services.nightly(on=today + timedelta(days=9))
    assert directory.user(estate["user"]).active is True

    services.nightly(on=today + timedelta(days=10))

    assert DeprovisioningRun.objects.get(pk=run_id).state == "completed"
    assert set(Entitlement.objects.values_list("state", flat=True)) == {"revoked"}
    assert directory.user(estate["user"]).active is False


def test_without_grace_days_no_grace_is_given(manager):
    entitlement = EntitlementFactory(contract=ContractFactory(grace_days=0))
    from licensing.services import entitlement_transition

    entitlement = entitlement_transition(
        actor=manager, entitlement_id=entitlement.pk, transition="start_grace", reason="Late"
    )

    assert entitlement.grace_ends_on == timezone.localdate()


def test_a_system_that_stays_down_ends_escalated_and_the_run_failed(api, manager, estate):
    idp, _roles, _keys = estate["systems"]
    idp.base_url = "http://127.0.0.1:9/v2"  # nothing listens on the discard port
    idp.save(update_fields=["base_url"])

    run_id = terminate(api, manager, estate["contract"]).json()["deprovisioning_run"]

    down = Delivery.objects.get(run_id=run_id, system=idp)
    assert (down.state, down.attempts) == ("escalated", 5)
    assert DeprovisioningRun.objects.get(pk=run_id).state == "failed"
    from licensing.deprovisioning.selectors import escalated_deliveries

    assert list(escalated_deliveries()) == [down]


def test_a_second_trigger_joins_the_open_run(manager, estate):
    contract = estate["contract"]
    contract.grace_days = 10
    contract.save(update_fields=["grace_days"])
    today = timezone.localdate()
    _, first = services.contract_terminate(
        actor=manager, contract_id=contract.pk, reason="Breach", on=today
    )

    again = services.run_start(
        actor=manager, contract=contract, trigger="breach", reason="Escalated breach",
        effective_date=today, on=today,
    )  # fmt: skip

    assert again.pk == first.pk
    assert DeprovisioningRun.objects.count() == 1
