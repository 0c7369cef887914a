"""Real connected systems on 127.0.0.1: scim2-server and a signature-checking webhook receiver."""

import pytest

from licensing.deprovisioning.connectors.scim import ScimConnector
from licensing.deprovisioning.connectors.webhook import WebhookConnector, new_webhook_secret
from licensing.deprovisioning.testing import WebhookReceiver, running_scim_server, serve_in_thread
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
