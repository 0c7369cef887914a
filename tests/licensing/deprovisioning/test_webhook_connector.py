"""The webhook connector against a real HTTP receiver that checks Standard Webhooks signatures."""

import datetime
import json
import socket
import traceback

import httpx2
import pytest

from licensing.deprovisioning.connectors import Change, ConnectorError
from licensing.deprovisioning.connectors.webhook import (
    WebhookConnector,
    new_webhook_secret,
    signed_headers,
)


def change(external_id="acct-1", key="delivery-1"):
    return Change(
        external_id=external_id,
        idempotency_key=key,
        entitlement="ent-7",
        contract="C-42",
        effective_date=datetime.date(2030, 1, 31),
    )


def test_revoke_posts_a_signed_event_the_receiver_applies(receiver, webhook):
    receiver.holders["acct-1"] = True

    webhook.revoke(change())

    assert receiver.deliveries == {
        "delivery-1": {
            "type": "entitlement.revoked",
            "data": {
                "external_id": "acct-1",
                "entitlement": "ent-7",
                "contract": "C-42",
                "effective_date": "2030-01-31",
            },
        }
    }
    assert receiver.holders["acct-1"] is False


def test_restore_posts_entitlement_restored(receiver, webhook):
    receiver.holders["acct-1"] = False

    webhook.restore(change(key="delivery-2"))

    assert receiver.deliveries["delivery-2"]["type"] == "entitlement.restored"
    assert receiver.holders["acct-1"] is True


def test_read_back_answers_the_receivers_state(receiver, webhook):
    receiver.holders.update({"on": True, "off": False})

    assert webhook.read_back("on") is True
    assert webhook.read_back("off") is False


def test_read_back_of_an_unknown_holder_is_none(webhook):
    assert webhook.read_back("nobody") is None


def test_a_retry_carries_the_same_webhook_id_and_applies_once(receiver, webhook):
    webhook.revoke(change())
    receiver.holders["acct-1"] = True  # someone re-enabled it; a duplicate must not re-apply

    webhook.revoke(change())

    assert receiver.attempts == ["delivery-1", "delivery-1"]
    assert len(receiver.deliveries) == 1
    assert receiver.holders["acct-1"] is True


def test_a_receiver_failing_twice_then_accepting(receiver, webhook):
    receiver.fail_next = 2
    outcomes = []

    for _ in range(3):
        try:
            webhook.revoke(change())
            outcomes.append("accepted")
        except ConnectorError as error:
            outcomes.append((error.retryable, error.status))

    assert outcomes == [(True, 503), (True, 503), "accepted"]
    assert receiver.attempts == ["delivery-1"] * 3
    assert webhook.read_back("acct-1") is False


def test_a_wrong_secret_is_refused_by_the_receiver_permanently(receiver, receiver_url):
    wrong = new_webhook_secret()
    connector = WebhookConnector(base_url=receiver_url, secret=wrong, timeout=5)

    with pytest.raises(ConnectorError) as caught:
        connector.revoke(change())

    assert (caught.value.retryable, caught.value.status) == (False, 401)
    assert receiver.deliveries == {}
    assert wrong not in "".join(traceback.format_exception(caught.value)) + repr(connector)


def test_the_receiver_refuses_an_unsigned_or_tampered_delivery(
    receiver, receiver_url, webhook_secret
):
    body = json.dumps({"type": "entitlement.revoked", "data": {"external_id": "acct-1"}})
    headers = signed_headers(secret=webhook_secret, msg_id="d-9", body=body)

    unsigned = httpx2.post(receiver_url, content=body)
    tampered = httpx2.post(receiver_url, content=body.replace("acct-1", "acct-2"), headers=headers)
    genuine = httpx2.post(receiver_url, content=body, headers=headers)

    assert [unsigned.status_code, tampered.status_code, genuine.status_code] == [401, 401, 200]
    assert list(receiver.deliveries) == ["d-9"]


def test_the_receiver_refuses_an_unsigned_read_back(receiver, receiver_url):
    receiver.holders["acct-1"] = True

    assert httpx2.get(f"{receiver_url}/acct-1").status_code == 401


def test_a_receiver_that_is_down_is_a_retryable_error(webhook_secret):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    connector = WebhookConnector(base_url=url, secret=webhook_secret, timeout=2)

    with pytest.raises(ConnectorError) as caught:
        connector.revoke(change())

    assert caught.value.retryable is True
    assert webhook_secret not in "".join(traceback.format_exception(caught.value))


def test_a_webhook_receiver_cannot_list_its_holders(webhook):
    assert webhook.lists_holders is False
    with pytest.raises(ConnectorError):
        list(webhook.list_holders())


@pytest.mark.parametrize("secret", ["", "whsec_", "whsec_not!base64"])
def test_an_empty_or_malformed_secret_is_refused_at_once(secret):
    with pytest.raises(ValueError, match="whsec_"):
        WebhookConnector(base_url="http://127.0.0.1:9", secret=secret, timeout=1)
