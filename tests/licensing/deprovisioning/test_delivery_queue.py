"""Deliveries are queued once, in batches, and a message lost on its way is queued again."""

from datetime import timedelta

import pytest

from licensing.deprovisioning import services
from licensing.deprovisioning.models import Delivery
from tests.factories import ContractFactory, EntitlementFactory


@pytest.fixture
def key(settings, admin_user, receiver, receiver_url, webhook_secret):
    settings.DEBUG = True
    receiver.holders["acct-1"] = True
    system = services.connected_system_create(
        actor=admin_user, name="Keys", kind="license_server", protocol="webhook",
        base_url=receiver_url, secret=webhook_secret,
    )  # fmt: skip
    entitlement = EntitlementFactory(contract=ContractFactory(grace_days=0), kind="product_key")
    services.assignment_create(actor=admin_user, entitlement=entitlement, system=system,
                               external_id="acct-1")  # fmt: skip
    return entitlement


def test_advancing_a_run_again_does_not_queue_its_deliveries_twice(
    key, manager, today, django_capture_on_commit_callbacks
):
    _, run = services.contract_terminate(
        actor=manager, contract_id=key.contract_id, reason="Ended", on=today
    )
    with django_capture_on_commit_callbacks() as first:
        services.run_advance(run_id=run.pk, on=today)
    with django_capture_on_commit_callbacks() as second:
        services.run_advance(run_id=run.pk, on=today)

    delivery = Delivery.objects.get(run=run)
    assert (delivery.state, delivery.queued_at is not None) == ("pending", True)
    assert first and not second  # the first advance queued it; the second found nothing


def test_a_delivery_whose_message_was_lost_is_queued_again_by_the_nightly_job(
    key, manager, today, receiver, pinned_clock, django_capture_on_commit_callbacks
):
    _, run = services.contract_terminate(
        actor=manager, contract_id=key.contract_id, reason="Ended", on=today
    )
    # Queued, but the message never reaches a worker (its callback is dropped here).
    with django_capture_on_commit_callbacks(execute=False):
        services.run_advance(run_id=run.pk, on=today)
    assert Delivery.objects.get(run=run).state == "pending"

    pinned_clock.shift(timedelta(hours=3))
    with django_capture_on_commit_callbacks(execute=True):
        services.nightly(on=today)

    delivery = Delivery.objects.get(run=run)
    assert (delivery.state, delivery.attempts) == ("confirmed", 1)
    assert receiver.holders["acct-1"] is False
