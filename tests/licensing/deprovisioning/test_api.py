"""The deprovisioning API's exact shapes, and who may use it."""

import pytest

from licensing.deprovisioning import services
from licensing.deprovisioning.connectors.webhook import new_webhook_secret
from licensing.errors import ConflictError
from licensing.models import ConnectedSystem
from tests.factories import ContractFactory, EntitlementFactory


@pytest.fixture
def system(settings, admin_user):
    settings.DEBUG = True
    return services.connected_system_create(
        actor=admin_user, name="Keys", kind="license_server", protocol="webhook",
        base_url="http://127.0.0.1:9/hooks", secret=new_webhook_secret(),
    )  # fmt: skip


def test_an_admin_connects_a_system_and_the_secret_is_never_answered(settings, api, admin_user):
    settings.DEBUG = True
    body = {"name": "IdP", "kind": "identity_provider", "protocol": "webhook",
            "base_url": "http://127.0.0.1:9/hooks", "secret": new_webhook_secret()}  # fmt: skip

    response = api(admin_user).post("/api/v1/connected-systems/", body, format="json")

    assert response.status_code == 201
    assert set(response.json()) == {"id", "name", "kind", "protocol", "base_url"}
    assert ConnectedSystem.objects.get().secret_sealed not in ("", body["secret"])


@pytest.mark.parametrize(
    "field,value", [("secret", "not-a-webhook-secret"), ("base_url", "http://10.0.0.1/x")]
)
def test_a_bad_secret_or_base_url_is_refused_under_its_field(api, admin_user, field, value):
    body = {"name": "IdP", "kind": "identity_provider", "protocol": "webhook",
            "base_url": "https://hooks.example.com/", "secret": new_webhook_secret()}  # fmt: skip

    response = api(admin_user).post(
        "/api/v1/connected-systems/", {**body, field: value}, format="json"
    )

    assert response.status_code == 400 and field in response.json()
    assert not ConnectedSystem.objects.exists()


def test_a_second_system_of_the_same_name_is_a_conflict_under_the_name(system, admin_user):
    # The database's unique name decides, so two requests sent at once cannot both pass a check.
    with pytest.raises(ConflictError) as refused:
        services.connected_system_create(
            actor=admin_user, name="Keys", kind="license_server", protocol="webhook",
            base_url="http://127.0.0.1:9/hooks", secret=new_webhook_secret(),
        )  # fmt: skip

    assert (refused.value.field, str(refused.value)) == (
        "name",
        "A system named Keys already exists.",
    )
    assert list(ConnectedSystem.objects.values_list("name", flat=True)) == ["Keys"]
    assert ConnectedSystem.history.count() == 1


def test_a_manager_reads_systems_but_cannot_connect_one(api, manager, system):
    listed = api(manager).get("/api/v1/connected-systems/")
    created = api(manager).post("/api/v1/connected-systems/", {"name": "x"}, format="json")

    assert listed.status_code == 200 and "secret" not in str(listed.json())
    assert created.status_code == 403


def test_a_manager_assigns_a_holder_and_lists_them(api, manager, system):
    entitlement = EntitlementFactory()
    url = f"/api/v1/entitlements/{entitlement.pk}/assignments/"

    created = api(manager).post(url, {"system": system.pk, "external_id": "u-1"}, format="json")
    listed = api(manager).get(url)

    assert created.status_code == 201
    assert created.json() == {"id": created.json()["id"], "system": system.pk, "external_id": "u-1"}
    assert listed.json() == [created.json()]
    # A holder at the system means the system enforces it.
    assert list(entitlement.enforced_by.all()) == [system]


def test_a_customer_reads_nothing_of_runs_systems_or_assignments(
    api, manager, customer_user, customer_a, system
):
    entitlement = EntitlementFactory(contract=ContractFactory(customer=customer_a, grace_days=5))
    terminated = api(manager).post(
        f"/api/v1/contracts/{entitlement.contract_id}/terminate/", {"reason": "x"}, format="json"
    )
    run_id = terminated.json()["deprovisioning_run"]
    client = api(customer_user)

    answers = [
        client.get(f"/api/v1/deprovisioning-runs/{run_id}/").status_code,
        client.get("/api/v1/connected-systems/").status_code,
        client.get(f"/api/v1/connected-systems/{system.pk}/").status_code,
        client.get(f"/api/v1/entitlements/{entitlement.pk}/assignments/").status_code,
        client.post(f"/api/v1/contracts/{entitlement.contract_id}/holds/",
                    {"kind": "legal_hold", "reason": "x"}, format="json").status_code,
    ]  # fmt: skip

    assert answers == [404, 404, 404, 404, 404]


def test_publishing_a_revocation_policy_needs_a_second_person(manager, admin_user):
    from datetime import timedelta

    from django.utils import timezone

    from licensing.errors import ActionForbidden

    today = timezone.localdate()
    draft = services.policy_draft(
        actor=manager, kind="revocation", rules={"max_attempts": 3}, summary="Three tries",
        effective_from=today + timedelta(days=1), reason="Fewer retries",
    )  # fmt: skip
    with pytest.raises(ActionForbidden):
        services.policy_publish(actor=manager, policy_id=draft.pk, reason="Go", on=today)

    published = services.policy_publish(actor=admin_user, policy_id=draft.pk, reason="Go", on=today)

    assert (published.status, published.label) == ("published", "revocation/v2")
