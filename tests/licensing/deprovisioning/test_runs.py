"""End to end: terminating a contract takes back what it granted at real local systems."""

from datetime import timedelta

import pytest
from django.utils import timezone

from licensing.deprovisioning import services
from licensing.deprovisioning.models import Delivery, DeprovisioningRun
from licensing.deprovisioning.tasks import deprovisioning_nightly
from licensing.models import Entitlement, LedgerEntry
from outbox.models import Mail
from tests.factories import ContractFactory, EntitlementFactory

# Real commits: a run advances after its transaction commits, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

KEYS = {"id", "contract", "state", "policy_version", "plan", "deliveries"}


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


def test_the_notice_mail_gives_its_dates_as_people_write_them(api, manager, estate):
    run_id = terminate(api, manager, estate["contract"]).json()["deprovisioning_run"]

    run = DeprovisioningRun.objects.get(pk=run_id)
    mail = Mail.objects.get(kind="deprovisioning.notice")
    written = f"{run.execute_on:%-d %B %Y}"
    assert mail.subject.endswith(f"access stops on {written}")
    assert f"Access stops on {written} at every connected system." in mail.body
    assert f"{run.execute_on:%Y-%m-%d}" not in mail.subject + mail.body


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


def test_grace_is_respected_then_the_nightly_job_revokes(
    api, manager, estate, directory, pinned_clock
):
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
    # The clock moves on; the beat's nightly task reads today itself.
    pinned_clock.shift(timedelta(days=9))
    deprovisioning_nightly.delay()
    assert directory.user(estate["user"]).active is True

    pinned_clock.shift(timedelta(days=1))
    deprovisioning_nightly.delay()

    assert DeprovisioningRun.objects.get(pk=run_id).state == "completed"
    assert set(Entitlement.objects.values_list("state", flat=True)) == {"revoked"}
    assert set(
        LedgerEntry.objects.filter(action="revoke").values_list("effective_date", "policy_version")
    ) == {(today + timedelta(days=10), "revocation/v1")}
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


def hold_entitlement(user, entitlement):
    from licensing.services import entitlement_transition

    return entitlement_transition(
        actor=user, entitlement_id=entitlement.pk, transition="hold", reason="Audit of keys"
    )


def test_a_run_with_a_held_entitlement_ends_failed_naming_it_rather_than_executing_forever(
    api, client, manager, estate, flaky_receiver
):
    _seats, key, _role = estate["entitlements"]
    hold_entitlement(manager, key)

    run_id = terminate(api, manager, estate["contract"]).json()["deprovisioning_run"]

    run = DeprovisioningRun.objects.get(pk=run_id)
    assert run.state == "failed"
    assert set(Entitlement.objects.values_list("pk", "state")) == {
        (e.pk, "held" if e == key else "revoked") for e in estate["entitlements"]
    }
    by_holder = dict(Delivery.objects.filter(run=run).values_list("external_id", "state"))
    assert by_holder == {estate["user"]: "confirmed", estate["member"]: "confirmed",
                         "acct-7": "pending"}  # fmt: skip
    assert flaky_receiver.holders["acct-7"] is True
    from audit.models import AuditEvent

    failed = AuditEvent.objects.get(action="deprovisioning.fail", object_id=str(run.pk))
    assert failed.data["held"] == [key.pk] and failed.policy_version == "revocation/v1"
    assert "could not be revoked (on hold)" in failed.reason
    client.force_login(manager)
    page = client.get(f"/deprovisioning/runs/{run.pk}/").content.decode()
    assert "Not revoked: 1 entitlement" in page and key.name in page
    assert "Release its hold on its page, then execute this run again" in page


def test_once_its_hold_is_released_executing_again_revokes_it_and_the_run_completes(
    api, manager, estate, flaky_receiver
):
    _seats, key, _role = estate["entitlements"]
    hold_entitlement(manager, key)
    run_id = terminate(api, manager, estate["contract"]).json()["deprovisioning_run"]
    from licensing.services import entitlement_transition

    entitlement_transition(
        actor=manager, entitlement_id=key.pk, transition="release_hold", reason="Audit done"
    )
    again = api(manager).post(
        f"/api/v1/deprovisioning-runs/{run_id}/execute/", {"reason": "Hold released"},
        format="json",
    )  # fmt: skip

    assert again.status_code == 200
    assert DeprovisioningRun.objects.get(pk=run_id).state == "completed"
    assert set(Entitlement.objects.values_list("state", flat=True)) == {"revoked"}
    assert set(Delivery.objects.filter(run_id=run_id).values_list("state", flat=True)) == {
        "confirmed"
    }
    assert flaky_receiver.holders["acct-7"] is False


def test_a_pending_entitlement_is_reported_never_activated_and_the_run_completes(
    api, client, manager, admin_user, estate
):
    idp = estate["systems"][0]
    pending = EntitlementFactory(contract=estate["contract"], state="pending", name="Seats later")
    services.assignment_create(
        actor=admin_user, entitlement=pending, system=idp, external_id="not-yet-provisioned"
    )

    run_id = terminate(api, manager, estate["contract"]).json()["deprovisioning_run"]

    body = api(manager).get(f"/api/v1/deprovisioning-runs/{run_id}/").json()
    assert body["state"] == "completed"
    assert "not-yet-provisioned" not in {d["external_id"] for d in body["deliveries"]}
    assert "not-yet-provisioned" not in {p["external_id"] for p in body["plan"]}
    assert Entitlement.objects.get(pk=pending.pk).state == "pending"
    client.force_login(manager)
    page = client.get(f"/deprovisioning/runs/{run_id}/").content.decode()
    assert "Never activated, nothing to take back:" in page and "Seats later" in page
