"""Signed webhooks, as Standard Webhooks defines them, through the ``standardwebhooks`` package.

A delivery is ``POST {base_url}`` with ``{"type": "entitlement.revoked" | "entitlement.restored",
"data": {...}}`` and the headers ``webhook-id`` (the delivery's idempotency key, the same on
every retry, so the receiver applies it once), ``webhook-timestamp`` and ``webhook-signature``.
Any 2xx accepts. Read-back is ``GET {base_url}/{external_id}`` answering ``{"active": bool}``;
it carries the same signature headers (over an empty body, under a fresh id) so a receiver can
refuse to tell strangers who holds what.

A receiver has no standard listing, so ``lists_holders`` is false: reconciliation reads back
each assignment instead.
"""

from __future__ import annotations

import base64
import datetime
import json
import secrets
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx2
from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook

from licensing.deprovisioning.connectors.base import (
    Change,
    ConnectorError,
    Holder,
    tls_context,
    transport_for,
)

REVOKED = "entitlement.revoked"
RESTORED = "entitlement.restored"
SECRET_PREFIX = "whsec_"


def new_webhook_secret() -> str:
    """A fresh Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def check_webhook_secret(secret: str) -> None:
    """Refuse, without echoing it, a secret the package cannot sign with."""
    try:
        Webhook(secret)
    except (ValueError, EmptyWebhookSecretError):  # binascii.Error is a ValueError
        raise ValueError("a webhook secret is 'whsec_' and base64, and not empty") from None


def signed_headers(*, secret: str, msg_id: str, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``, signed now."""
    now = datetime.datetime.now(datetime.UTC)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id=msg_id, timestamp=now, data=body),
    }


def event_body(event_type: str, change: Change) -> str:
    effective = change.effective_date.isoformat() if change.effective_date else None
    data = {
        "external_id": change.external_id,
        "entitlement": change.entitlement,
        "contract": change.contract,
        "effective_date": effective,
    }
    return json.dumps({"type": event_type, "data": data}, separators=(",", ":"))


class WebhookConnector:
    lists_holders = False

    def __init__(self, *, base_url: str, secret: str, timeout: float):
        check_webhook_secret(secret)
        self.base_url = base_url.rstrip("/")
        self._secret = secret
        self._http = httpx2.Client(
            timeout=timeout, verify=tls_context(), transport=transport_for(self.base_url)
        )

    def __repr__(self) -> str:
        return f"WebhookConnector({self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> WebhookConnector:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def revoke(self, change: Change, *, delete: bool = False) -> None:
        """Send ``entitlement.revoked``; whether to delete is the receiver's business."""
        self._deliver(REVOKED, change)

    def restore(self, change: Change) -> None:
        self._deliver(RESTORED, change)

    def read_back(self, external_id: str, *, group_id: str | None = None) -> bool | None:
        url = f"{self.base_url}/{quote(external_id, safe='')}"
        headers = signed_headers(secret=self._secret, msg_id=f"read_{uuid.uuid4().hex}", body="")
        response = self._send("GET", url, what=f"webhook GET {external_id}", headers=headers)
        if response.status_code == 404:
            return None
        try:
            active = response.json()["active"]
        except (ValueError, KeyError, TypeError):
            raise ConnectorError(
                f"webhook GET {external_id} answered without an 'active' flag", retryable=False
            ) from None
        if not isinstance(active, bool):
            raise ConnectorError(
                f"webhook GET {external_id} answered a non-boolean 'active'", retryable=False
            )
        return active

    def list_holders(self, *, group_id: str | None = None) -> Iterator[Holder]:
        raise ConnectorError("a webhook receiver cannot list its holders", retryable=False)

    def _deliver(self, event_type: str, change: Change) -> None:
        body = event_body(event_type, change)
        headers = signed_headers(secret=self._secret, msg_id=change.idempotency_key, body=body)
        headers["content-type"] = "application/json"
        what = f"webhook {event_type} for {change.external_id}"
        self._send("POST", self.base_url, what=what, headers=headers, content=body.encode())

    def _send(self, method: str, url: str, *, what: str, **kwargs: Any) -> httpx2.Response:
        try:
            response = self._http.request(method, url, **kwargs)
        except httpx2.TransportError as exc:
            raise ConnectorError(f"{what} failed: {type(exc).__name__}", retryable=True) from None
        except httpx2.HTTPError as exc:
            raise ConnectorError(f"{what} failed: {type(exc).__name__}", retryable=False) from None
        if response.is_success or (method == "GET" and response.status_code == 404):
            return response
        raise ConnectorError.for_status(what, response.status_code)
