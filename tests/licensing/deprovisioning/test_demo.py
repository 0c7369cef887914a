"""The demo's connected systems, served by the app itself in debug, against a live server."""

import io

import httpx2
import pytest
from django.core.management import call_command
from django.utils import timezone

from licensing.deprovisioning import demo, seed, services
from licensing.deprovisioning.models import Delivery, DeprovisioningRun
from licensing.models import Assignment, ConnectedSystem, Contract

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_site(live_server, settings, tmp_path, monkeypatch):
    """Debug on, the site at the live server, the demo systems' state in a fresh folder."""
    settings.DEBUG = True
    settings.SITE_URL = live_server.url
    monkeypatch.setattr(demo, "state_dir", lambda: tmp_path)
    return live_server.url


def test_a_demo_contract_terminated_is_confirmed_by_the_systems_the_app_serves(demo_site):
    call_command("seed_demo_licensing", password="demo", stdout=io.StringIO())
    seed.seed(stdout=io.StringIO(), password="demo")
    contract = Contract.objects.get(number__endswith="-0901")
    assert {s.name for s in ConnectedSystem.objects.exclude(protocol="")} == {
        seed.DIRECTORY, seed.ROLES, seed.LICENSES
    }  # fmt: skip
    assert Assignment.objects.filter(entitlement__contract=contract).count() == 6

    _contract, run = services.contract_terminate(
        actor=contract.account_manager, contract_id=contract.pk, reason="Demo",
        on=timezone.localdate(),
    )  # fmt: skip

    run = DeprovisioningRun.objects.get(pk=run.pk)
    assert run.state == DeprovisioningRun.State.COMPLETED
    assert set(run.deliveries.values_list("state", flat=True)) == {Delivery.State.CONFIRMED}
    _app, storage = demo.scim_application()
    seats = Assignment.objects.filter(entitlement__contract=contract, group_id="")
    users = {r.id: r for r in storage.resources if type(r).__name__ == "User"}
    assert all(users[a.external_id].active is False for a in seats if a.external_id in users)


def test_the_demo_webhook_receiver_refuses_an_unsigned_delivery(demo_site):
    response = httpx2.post(
        f"{demo_site}{demo.WEBHOOK_PATH}", json={"type": "entitlement.revoked", "data": {}}
    )

    assert response.status_code == 401


def test_the_demo_scim_server_wants_its_bearer_token(demo_site):
    refused = httpx2.get(f"{demo_site}{demo.SCIM_PATH}/v2/Users")
    allowed = httpx2.get(
        f"{demo_site}{demo.SCIM_PATH}/v2/Users",
        headers={"Authorization": f"Bearer {demo.scim_token()}"},
    )

    assert (refused.status_code, allowed.status_code) == (401, 200)
    assert allowed.json()["totalResults"] == 0


def test_outside_debug_the_demo_systems_do_not_exist(client, settings):
    settings.DEBUG = False

    assert client.get(f"{demo.SCIM_PATH}/v2/Users").status_code == 404
    assert client.post(demo.WEBHOOK_PATH, {}).status_code == 404
