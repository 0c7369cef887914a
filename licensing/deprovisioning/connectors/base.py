"""What every connector shares: the change it carries, the holder it reports, its one error."""

from __future__ import annotations

import datetime
import functools
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from typing import Protocol as TypingProtocol


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every connector: loading the CA store takes a while, and a
    run builds a connector per delivery."""
    return ssl.create_default_context()


class Protocol(StrEnum):
    SCIM2 = "scim2"
    WEBHOOK = "webhook"


@dataclass(frozen=True)
class Change:
    """One delivery's worth of facts: whose access, granted by what, under which key.

    ``idempotency_key`` stays the same on every retry of one delivery. ``group_id`` names the
    SCIM group through which a role permission is held: the change is then about the
    membership, not the user account.
    """

    external_id: str
    idempotency_key: str
    entitlement: str = ""
    contract: str = ""
    effective_date: datetime.date | None = None
    group_id: str | None = None


@dataclass(frozen=True)
class Holder:
    external_id: str
    active: bool


def is_retryable_status(status: int) -> bool:
    """Whether an HTTP status is worth another try: the server's trouble, not ours."""
    return status >= 500 or status in (408, 429)


class ConnectorError(Exception):
    """A connected system did not do what was asked.

    ``retryable`` is true when a later try may succeed (timeouts, refused connections, 5xx,
    408, 429) and false when only a person can mend it (a refused token, a bad request).
    """

    def __init__(self, message: str, *, retryable: bool, status: int | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.status = status

    @classmethod
    def for_status(cls, what: str, status: int) -> ConnectorError:
        return cls(
            f"{what} answered {status}", retryable=is_retryable_status(status), status=status
        )


class Connector(TypingProtocol):
    lists_holders: bool

    def revoke(self, change: Change, *, delete: bool = False) -> None: ...

    def restore(self, change: Change) -> None: ...

    def read_back(self, external_id: str, *, group_id: str | None = None) -> bool | None: ...

    def list_holders(self, *, group_id: str | None = None) -> Iterator[Holder]: ...

    def close(self) -> None: ...


# Base URLs answered inside this process rather than over the network: URL prefix -> an
# httpx2 transport. Empty except while the demo's seed runs (runserver, which serves the demo
# systems, is not up yet then); see ``demo.served_here``.
_in_process: ContextVar[dict[str, Any] | None] = ContextVar("in_process", default=None)


@contextmanager
def served_in_process(routes: dict[str, Any]) -> Iterator[None]:
    """Within this block, requests to a URL starting with a key of ``routes`` go to its value."""
    token = _in_process.set({**(_in_process.get() or {}), **routes})
    try:
        yield
    finally:
        _in_process.reset(token)


def transport_for(url: str) -> Any:
    """The in-process transport serving ``url``, or ``None`` for the network."""
    routes = _in_process.get() or {}
    return next((t for prefix, t in routes.items() if url.startswith(prefix)), None)


def connector_for(protocol: str, *, base_url: str, secret: str, timeout: float) -> Connector:
    """The connector speaking ``protocol`` to the system at ``base_url``."""
    # Imported here so that a caller needing one protocol does not load the other's client.
    if protocol == Protocol.SCIM2:
        from licensing.deprovisioning.connectors.scim import ScimConnector

        return ScimConnector(base_url=base_url, secret=secret, timeout=timeout)
    if protocol == Protocol.WEBHOOK:
        from licensing.deprovisioning.connectors.webhook import WebhookConnector

        return WebhookConnector(base_url=base_url, secret=secret, timeout=timeout)
    raise ValueError(f"unknown protocol {protocol!r}")
