"""The review queue's decisions: resolve a finding, send an escalated delivery again, close one.

Against real systems on 127.0.0.1: a webhook receiver that stays down for exactly the policy's
ceiling (so the delivery escalates and a retry then gets through) and the SCIM server.
"""

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from licensing.deprovisioning import decisions, services
from licensing.deprovisioning.models import Delivery, DeprovisioningRun, ReconciliationFinding
from licensing.deprovisioning.reconciliation import reconcile_system
from licensing.deprovisioning.selectors import escalated_deliveries, open_findings
from licensing.deprovisioning.testing import WebhookReceiver, serve_in_thread
from licensing.errors import ActionForbidden, TransitionNotAllowed
from tests.factories import ContractFactory, EntitlementFactory
from tests.licensing.deprovisioning import SCIM_TOKEN
from tests.support import Snapshot

# Real commits: a retry is sent after its transaction commits, as in production.
pytestmark = pytest.mark.django_db(transaction=True)

REASON = "The license server is back after its maintenance"
CEILING = 5  # revocation/v1's attempts per delivery


@pytest.fixture
def down_receiver(webhook_secret):
    # Down for every attempt of the first round: the delivery escalates; a retry gets through.
    return WebhookReceiver(secret=webhook_secret, fail_next=CEILING, holders={"acct-3": True})


@pytest.fixture
def escalated(settings, admin_user, manager, down_receiver, webhook_secret):
    """A terminated contract whose one webhook delivery escalated: the run failed on it."""
    settings.DEBUG = True  # loopback base URLs are accepted in debug only
    with serve_in_thread(down_receiver) as url:
        system = services.connected_system_create(
            actor=admin_user, name="License server", kind="license_server", protocol="webhook",
            base_url=url, secret=webhook_secret,
        )  # fmt: skip
        contract = ContractFactory(grace_days=0)
        key = EntitlementFactory(contract=contract, kind="product_key", quantity=1)
        services.assignment_create(actor=admin_user, entitlement=key, system=system,
                                   external_id="acct-3")  # fmt: skip
        _contract, run = services.contract_terminate(
            actor=manager, contract_id=contract.pk, reason="Terminated", on=timezone.localdate()
        )
        yield Delivery.objects.select_related("run").get(run=run)


def events(action: str):
    return list(AuditEvent.objects.filter(action=action))


# Sending again --------------------------------------------------------------------------------


def test_the_escalated_delivery_and_its_failed_run_are_where_a_retry_starts(escalated):
    assert (escalated.state, escalated.attempts) == ("escalated", CEILING)
    assert escalated.run.state == DeprovisioningRun.State.FAILED


def test_a_manager_sends_an_escalated_delivery_again_and_the_run_completes(
    client, manager, escalated, down_receiver
):
    client.force_login(manager)

    response = client.post(f"/deprovisioning/deliveries/{escalated.pk}/retry/",
                           {"reason": REASON}, follow=True)  # fmt: skip

    delivery = Delivery.objects.get(pk=escalated.pk)
    assert response.status_code == 200
    assert (delivery.state, delivery.attempts) == ("confirmed", 1)
    assert down_receiver.holders["acct-3"] is False
    # The same idempotency key on the retry: the receiver applies it once.
    assert set(down_receiver.attempts) == {escalated.idempotency_key}
    assert DeprovisioningRun.objects.get(pk=escalated.run_id).state == "completed"
    [event] = events("delivery.retry")
    assert (event.reason, event.actor_id, event.policy_version) == (
        REASON,
        manager.pk,
        "revocation/v1",
    )
    assert event.data["attempts_before"] == CEILING
    assert delivery.history.filter(history_change_reason=REASON, history_user=manager).exists()
    assert "sent again" in str(list(response.context["messages"])[0])
    assert list(escalated_deliveries()) == []


def test_a_retry_is_refused_while_the_contract_is_under_hold(manager, manager2, escalated):
    services.hold_place(actor=manager2, contract=escalated.run.contract, kind="legal_hold",
                        reason="Litigation", on=timezone.localdate())  # fmt: skip
    before = Snapshot(escalated)

    with pytest.raises(TransitionNotAllowed, match="under hold"):
        decisions.delivery_retry(actor=manager, delivery_id=escalated.pk, reason=REASON)

    assert before.unchanged(), before.changes()


@pytest.mark.parametrize("act", ["retry", "close"])
def test_an_auditor_may_neither_retry_nor_close_and_nothing_changes(auditor, escalated, act):
    service = {"retry": decisions.delivery_retry, "close": decisions.delivery_close}[act]
    before = Snapshot(escalated)

    with pytest.raises(ActionForbidden):
        service(actor=auditor, delivery_id=escalated.pk, reason=REASON)

    assert before.unchanged(), before.changes()


def test_sending_again_without_a_reason_shows_the_error_beside_the_field(
    client, manager, escalated
):
    client.force_login(manager)
    before = Snapshot(escalated)

    response = client.post(f"/deprovisioning/deliveries/{escalated.pk}/retry/", {"reason": " "})

    assert response.status_code == 400
    page = response.content.decode()
    assert "could not be sent" in page and "Give a reason" in page
    assert before.unchanged(), before.changes()


# Closing --------------------------------------------------------------------------------------


def test_closing_an_escalated_delivery_takes_it_out_of_the_queue_and_sends_nothing(
    client, manager, escalated, down_receiver
):
    attempts = list(down_receiver.attempts)
    client.force_login(manager)
    reason = "The license server was decommissioned; the account went with it"

    response = client.post(f"/deprovisioning/deliveries/{escalated.pk}/close/",
                           {"reason": reason}, follow=True)  # fmt: skip

    delivery = Delivery.objects.get(pk=escalated.pk)
    assert response.status_code == 200
    assert (delivery.state, delivery.closed_by, delivery.close_reason) == (
        "escalated",
        manager,
        reason,
    )
    assert delivery.closed_at is not None
    assert down_receiver.attempts == attempts
    assert list(escalated_deliveries()) == []
    [event] = events("delivery.close")
    assert (event.reason, event.actor_id) == (reason, manager.pk)
    # The run never had it confirmed, and says so.
    assert DeprovisioningRun.objects.get(pk=escalated.run_id).state == "failed"


def test_a_closed_delivery_is_not_sent_again_when_its_run_executes_again(
    manager, escalated, down_receiver
):
    decisions.delivery_close(actor=manager, delivery_id=escalated.pk, reason="Removed by hand")
    attempts = list(down_receiver.attempts)

    services.run_execute(actor=manager, run_id=escalated.run_id, reason="Try the rest",
                         on=timezone.localdate())  # fmt: skip

    delivery = Delivery.objects.get(pk=escalated.pk)
    assert (delivery.state, delivery.attempts) == ("escalated", CEILING)
    assert down_receiver.attempts == attempts


def test_a_closed_delivery_can_be_neither_retried_nor_closed_again(manager, escalated):
    decisions.delivery_close(actor=manager, delivery_id=escalated.pk, reason="Removed by hand")
    delivery = Delivery.objects.select_related("run").get(pk=escalated.pk)

    assert decisions.delivery_retry_refusal(manager, delivery) == "This delivery was closed."
    assert decisions.delivery_close_refusal(manager, delivery) == "This delivery was closed."
    with pytest.raises(TransitionNotAllowed):
        decisions.delivery_retry(actor=manager, delivery_id=delivery.pk, reason=REASON)


# Findings -------------------------------------------------------------------------------------


@pytest.fixture
def finding(settings, admin_user, manager, directory):
    """A holder we granted a seat who is missing at the directory: a finding for a person."""
    settings.DEBUG = True
    idp = services.connected_system_create(
        actor=admin_user, name="Directory", kind="identity_provider", protocol="scim2",
        base_url=directory.base_url, secret=SCIM_TOKEN,
    )  # fmt: skip
    seats = EntitlementFactory(contract=ContractFactory(), kind="seat_pool")
    services.assignment_create(actor=admin_user, entitlement=seats, system=idp,
                               external_id="ghost-user")  # fmt: skip
    done = reconcile_system(actor=manager, system_id=idp.pk, on=timezone.localdate())
    return done.findings.get()


def test_a_manager_resolves_a_finding_with_a_reason(client, manager, finding):
    assert (finding.kind, finding.state) == ("missing", "open")
    client.force_login(manager)
    reason = "The holder left the customer; their seat is being released"

    response = client.post(f"/deprovisioning/findings/{finding.pk}/resolve/",
                           {"reason": reason}, follow=True)  # fmt: skip

    resolved = ReconciliationFinding.objects.get(pk=finding.pk)
    assert response.status_code == 200
    assert (resolved.state, resolved.resolved_by, resolved.resolution) == (
        "resolved",
        manager,
        reason,
    )
    assert resolved.resolved_at is not None and resolved.repaired is False
    assert list(open_findings()) == []
    [event] = events("reconciliation_finding.resolve")
    assert (event.reason, event.actor_id, event.policy_version) == (
        reason,
        manager.pk,
        "revocation/v1",
    )
    assert event.data["external_id"] == "ghost-user"
    assert resolved.history.filter(history_change_reason=reason).exists()


def test_a_resolved_finding_is_not_resolved_twice(manager, finding):
    decisions.finding_resolve(actor=manager, finding_id=finding.pk, reason="Looked",
                              on=timezone.localdate())  # fmt: skip
    before = Snapshot(finding)

    with pytest.raises(TransitionNotAllowed, match="already resolved"):
        decisions.finding_resolve(actor=manager, finding_id=finding.pk, reason="Again",
                                  on=timezone.localdate())  # fmt: skip

    assert before.unchanged(), before.changes()


@pytest.mark.parametrize(("persona", "allowed"), [("manager", True), ("auditor", False)])
def test_the_review_queue_offers_its_decisions_to_managers_only(
    client, request, finding, escalated, persona, allowed
):
    client.force_login(request.getfixturevalue(persona))

    page = client.get("/deprovisioning/review/").content.decode()

    assert "ghost-user" in page and "acct-3" in page
    for button in ("Resolve</button>", "Send again</button>", "Close delivery</button>"):
        assert (button in page) is allowed, button
    if allowed:
        assert 'data-confirm="Close this delivery without sending it again?' in page
