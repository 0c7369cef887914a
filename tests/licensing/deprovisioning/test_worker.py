"""The retry path on a real Celery worker and Redis: backoff, same idempotency key, confirmed."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from config.celery import app
from licensing.deprovisioning import services
from licensing.deprovisioning.models import DeprovisioningRun
from licensing.deprovisioning.testing import WebhookReceiver, serve_in_thread
from tests.factories import ContractFactory, EntitlementFactory


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_retries_a_failing_receiver_until_confirmed(
    settings, admin_user, manager, webhook_secret
):
    settings.DEBUG = True
    settings.DEPROVISIONING_RETRY_BASE_SECONDS = 0.2
    receiver = WebhookReceiver(secret=webhook_secret, fail_next=2, holders={"acct-1": True})
    with serve_in_thread(receiver) as url:
        system = services.connected_system_create(
            actor=admin_user, name="Keys", kind="license_server", protocol="webhook",
            base_url=url, secret=webhook_secret,
        )  # fmt: skip
        key = EntitlementFactory(contract=ContractFactory(grace_days=0), kind="product_key")
        services.assignment_create(actor=admin_user, entitlement=key, system=system,
                                   external_id="acct-1")  # fmt: skip
        app.conf.task_always_eager = False
        with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
            _, run = services.contract_terminate(
                actor=manager, contract_id=key.contract_id, reason="Ended",
                on=timezone.localdate(),
            )  # fmt: skip
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if DeprovisioningRun.objects.get(pk=run.pk).state == "completed":
                    break
                time.sleep(0.2)

    assert DeprovisioningRun.objects.get(pk=run.pk).state == "completed"
    assert len(receiver.attempts) == 3 and len(set(receiver.attempts)) == 1
    assert receiver.holders["acct-1"] is False
