"""Real stand-ins for connected systems: a SCIM server and a signed-webhook receiver.

Tests serve them on 127.0.0.1 in a thread (``serve_in_thread``); the demo mounts the same
objects inside the app in debug. Nothing here is a mock: the SCIM server is scim2-server's WSGI
application over its in-memory storage, and the receiver checks Standard Webhooks signatures
with the ``standardwebhooks`` package, as a real integrator's endpoint would.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import unquote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import Group, GroupMember, PatchOp, PatchOperation, ScimProvider, User
from scim2_server.memory import InMemoryStorage
from scim2_server.testserver.application import BEARER_TOKEN_SCHEME, BearerTokenApplication
from scim2_server.utils import load_default_provider
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from licensing.deprovisioning.connectors.base import tls_context
from licensing.deprovisioning.connectors.webhook import RESTORED, REVOKED

WSGIApp = Any  # (environ, start_response) -> Iterable[bytes]


@functools.cache
def _provider() -> ScimProvider:
    """RFC 7643's users and groups, announcing bearer tokens; built once, it reads slowly."""
    provider = load_default_provider()
    provider.config.authentication_schemes = [
        *(provider.config.authentication_schemes or []),
        BEARER_TOKEN_SCHEME,
    ]
    return provider


def scim_application(*, bearer_token: str) -> tuple[BearerTokenApplication, InMemoryStorage]:
    """scim2-server's WSGI application over a fresh in-memory storage, accepting one token.

    The storage is returned too, so a test (or the demo's seed) can look behind the protocol.
    """
    storage = InMemoryStorage()
    return BearerTokenApplication(storage, _provider(), bearer_tokens=[bearer_token]), storage


class ScimDirectory:
    """The identity provider's own side of a SCIM server: its admin creating holders and
    changing them behind our back (a user re-activated by hand, a group edited)."""

    def __init__(self, *, base_url: str, token: str):
        self.base_url = base_url
        self._http = httpx2.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
            verify=tls_context(),
        )
        self._scim = SyncSCIMClient(self._http, provider=ScimProvider(models=[User, Group]))

    def close(self) -> None:
        self._http.close()

    def add_user(self, user_name: str, *, active: bool = True) -> str:
        return self._scim.create(User(user_name=user_name, active=active)).id

    def add_group(self, display_name: str, members: Iterable[str] = ()) -> str:
        group = Group(display_name=display_name, members=[GroupMember(value=m) for m in members])
        return self._scim.create(group).id

    def set_active(self, user_id: str, active: bool) -> None:
        operation = PatchOperation[User](op="replace", path="active", value=active)
        self._scim.modify(User, user_id, PatchOp[User](operations=[operation]))

    def user(self, user_id: str) -> User | None:
        found = self._scim.query(User, user_id, raise_scim_errors=False)
        return found if isinstance(found, User) else None

    def members(self, group_id: str) -> set[str]:
        return {member.value for member in self._scim.query(Group, group_id).members or ()}


@contextmanager
def running_scim_server(*, token: str) -> Iterator[ScimDirectory]:
    """scim2-server on 127.0.0.1 in a thread; yields its directory (``.base_url`` ends in /v2)."""
    app, _storage = scim_application(bearer_token=token)
    with serve_in_thread(app) as root:
        directory = ScimDirectory(base_url=f"{root}/v2", token=token)
        try:
            yield directory
        finally:
            directory.close()


@dataclass
class WebhookReceiver:
    """A connected system's webhook endpoint: verifies, applies each delivery once, answers state.

    ``handle`` is the whole behaviour, free of any web framework, so a Django view can call it
    as well as the WSGI entry point below. ``fail_next`` makes the next N deliveries answer
    503 (after their signature checked out), to exercise the sender's retries.
    """

    secret: str
    fail_next: int = 0
    holders: dict[str, bool] = field(default_factory=dict)
    deliveries: dict[str, dict[str, Any]] = field(default_factory=dict)
    attempts: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def handle(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        """Answer one request as ``(status, json_body)``; ``path`` is below the mount point."""
        try:
            Webhook(self.secret).verify(body, dict(headers), json_parse=False)
        except WebhookVerificationError:
            return 401, {"error": "bad signature"}
        external_id = unquote(path.strip("/"))
        if method == "GET" and external_id:
            return self._state(external_id)
        if method == "POST" and not external_id:
            return self._deliver(headers_lower(headers)["webhook-id"], body)
        return 405, {"error": "method not allowed"}

    def _state(self, external_id: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if external_id not in self.holders:
                return 404, {"error": "unknown holder"}
            return 200, {"external_id": external_id, "active": self.holders[external_id]}

    def _deliver(self, webhook_id: str, body: bytes) -> tuple[int, dict[str, Any]]:
        try:
            event = json.loads(body)
            event_type, external_id = event["type"], event["data"]["external_id"]
        except (ValueError, KeyError, TypeError):
            return 400, {"error": "not an entitlement event"}
        if event_type not in (REVOKED, RESTORED):
            return 400, {"error": f"unknown event type {event_type}"}
        with self._lock:
            self.attempts.append(webhook_id)
            if self.fail_next > 0:
                self.fail_next -= 1
                return 503, {"error": "try again later"}
            if webhook_id in self.deliveries:
                return 200, {"duplicate": True}
            self.deliveries[webhook_id] = event
            self.holders[external_id] = event_type == RESTORED
        return 200, {"applied": True}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """The receiver as a WSGI application."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        status, answer = self.handle(
            environ["REQUEST_METHOD"], environ.get("PATH_INFO", ""), headers, body
        )
        start_response(
            f"{status} {_REASONS.get(status, 'Status')}", [("Content-Type", "application/json")]
        )
        return [json.dumps(answer).encode()]


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    503: "Service Unavailable",
}


def headers_lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {key.lower(): value for key, value in headers.items()}


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
        pass


@contextmanager
def serve_in_thread(app: WSGIApp) -> Iterator[str]:
    """Serve a WSGI application on 127.0.0.1 at a free port; yields its root URL."""
    server = make_server(
        "127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    # A short poll, so that stopping the server does not cost each test half a second.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
