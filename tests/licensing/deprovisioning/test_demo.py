"""The demo's connected systems, served by the app itself in debug, against a live server."""

import io

import httpx2
import pytest
from django.core.management import call_command
from django.utils import timezone

from licensing.deprovisioning import demo, seed, services
from licensing.deprovisioning.models import Delivery, DeprovisioningRun, Reconciliation
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


def test_the_seed_leaves_one_run_completed_against_the_demo_systems_and_ready_contracts(
    client, settings, tmp_path, monkeypatch
):
    # No server answers at the site's address while the seed runs (runserver starts after it):
    # the demo systems answer in-process, so the run's deliveries still reach them.
    settings.DEBUG = True
    settings.SITE_URL = "http://127.0.0.1:9"
    monkeypatch.setattr(demo, "state_dir", lambda: tmp_path)
    call_command("seed_demo_licensing", password="demo", stdout=io.StringIO())

    seed.seed(stdout=io.StringIO(), password="demo")

    [run] = DeprovisioningRun.objects.all()
    assert (run.state, run.contract.number.endswith("-0999")) == ("completed", True)
    deliveries = list(run.deliveries.select_related("system"))
    assert {d.system.name for d in deliveries} == {seed.DIRECTORY, seed.ROLES, seed.LICENSES}
    assert {d.state for d in deliveries} == {Delivery.State.CONFIRMED}
    _app, storage = demo.scim_application()
    active = {r.id: getattr(r, "active", None) for r in storage.resources}
    seats = [d.external_id for d in deliveries if d.system.name == seed.DIRECTORY]
    assert seats and {active[s] for s in seats} == {False}
    # One seat was turned back on behind our back; the directory's reconciliation repaired it.
    [done] = Reconciliation.objects.all()
    assert (done.system.name, done.drift, done.repaired) == (seed.DIRECTORY, 1, 1)
    receiver = demo.receiver()
    receiver.load()
    assert not any(receiver.holders[d.external_id] for d in deliveries if d.system.name
                   == seed.LICENSES)  # fmt: skip
    ready = Contract.objects.filter(number__regex=r"-090[1-3]$", status="active")
    assert ready.count() == 3
    client.force_login(run.contract.account_manager)
    page = client.get(f"/deprovisioning/runs/{run.pk}/").content.decode()
    assert f"{len(deliveries)} of {len(deliveries)} confirmed by read-back" in page
