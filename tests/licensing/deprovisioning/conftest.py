"""Real connected systems on 127.0.0.1: scim2-server and a signature-checking webhook receiver."""

import pytest

from licensing.deprovisioning import services
from licensing.deprovisioning.connectors.scim import ScimConnector
from licensing.deprovisioning.connectors.webhook import WebhookConnector, new_webhook_secret
from licensing.deprovisioning.testing import WebhookReceiver, running_scim_server, serve_in_thread
from licensing.roles import Role
from tests.factories import ContractFactory, EntitlementFactory, UserFactory
from tests.licensing.deprovisioning import SCIM_TOKEN


@pytest.fixture
def directory():
    with running_scim_server(token=SCIM_TOKEN) as directory:
        yield directory


@pytest.fixture
def scim(directory):
    with ScimConnector(base_url=directory.base_url, secret=SCIM_TOKEN, timeout=5) as connector:
        yield connector


@pytest.fixture
def webhook_secret():
    return new_webhook_secret()


@pytest.fixture
def receiver(webhook_secret):
    return WebhookReceiver(secret=webhook_secret)


@pytest.fixture
def receiver_url(receiver):
    with serve_in_thread(receiver) as root:
        yield root


@pytest.fixture
def webhook(receiver_url, webhook_secret):
    with WebhookConnector(base_url=receiver_url, secret=webhook_secret, timeout=5) as connector:
        yield connector


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
