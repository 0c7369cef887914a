import time
from datetime import date

import pytest
from celery.contrib.testing.worker import start_worker

from config.celery import app
from licensing.models import Entitlement
from licensing.tasks import expire_ended_entitlements
from tests.factories import EntitlementFactory


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_on_redis_runs_the_nightly_expiry():
    ended = EntitlementFactory(starts_on=date(2020, 1, 1), ends_on=date(2021, 1, 1))
    app.conf.task_always_eager = False

    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        expire_ended_entitlements.delay()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if Entitlement.objects.get(pk=ended.pk).state == Entitlement.State.EXPIRED:
                break
            time.sleep(0.2)

    assert Entitlement.objects.get(pk=ended.pk).state == Entitlement.State.EXPIRED
