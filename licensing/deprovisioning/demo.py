"""The demo's connected systems, served by the app itself in debug (a 404 otherwise).

`make run` has no identity provider or license server to talk to, so in debug the app serves
them: scim2-server's WSGI application under ``/deprovisioning/demo/scim/`` and a Standard
Webhooks receiver under ``/deprovisioning/demo/webhooks``, both the real objects tests run in a
thread (``testing.py``). Their state lives in JSON files beside the SQLite database, so the
seed (another process) and runserver (and its reloads) see one directory. With tasks eager, a
delivery made while a page request is answered calls back into the same runserver, which is
threaded, so the demo system answers from another thread.

Secrets are derived from ``SECRET_KEY``: the seed seals them into the connected systems, and
the demo views check them, without either storing them anywhere else.
"""

from __future__ import annotations

import base64
import functools
import hmac
import io
import json
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from scim2_models import Group, Resource, User
from scim2_server.memory import InMemoryStorage

from .testing import WebhookReceiver, _provider

SCIM_PATH = "/deprovisioning/demo/scim"
WEBHOOK_PATH = "/deprovisioning/demo/webhooks"


def _derived(purpose: str) -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), f"demo:{purpose}".encode(), "sha256").digest()


def scim_token() -> str:
    return _derived("scim").hex()


def webhook_secret() -> str:
    return "whsec_" + base64.b64encode(_derived("webhook")).decode()


def state_dir() -> Path:
    """Beside the SQLite file (so `make clean` and a new database start afresh), else var/."""
    database = settings.DATABASES["default"]
    name = str(database.get("NAME") or "")
    if database["ENGINE"].endswith("sqlite3") and name and not name.startswith((":", "file:")):
        path = Path(name)
        return path.parent / f"{path.name}.demo-systems"
    return Path(settings.BASE_DIR) / "var" / "demo-systems"


def _write(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data, indent=1, default=str))
    partial.replace(path)  # atomic: a reader never sees half a file


class FileBackedStorage(InMemoryStorage):
    """scim2-server's in-memory storage, reloaded when its file changed and saved on each write."""

    MODELS: dict[str, type[Resource]] = {"User": User, "Group": Group}

    def __init__(self, path: Path):
        super().__init__()
        self.path = path
        self._stamp: int | None = None

    def _refresh(self) -> None:
        try:
            stamp = self.path.stat().st_mtime_ns
        except FileNotFoundError:
            stamp = None
        if stamp == self._stamp:
            return
        rows = json.loads(self.path.read_text()) if stamp is not None else []
        self.resources = [self.MODELS[row["meta"]["resourceType"]].model_validate(row)
                          for row in rows]  # fmt: skip
        self._stamp = stamp

    def _save(self) -> None:
        _write(self.path, [r.model_dump(mode="json") for r in self.resources])
        self._stamp = self.path.stat().st_mtime_ns

    def get(self, *args, **kwargs):
        with self.lock:
            self._refresh()
            return super().get(*args, **kwargs)

    def search(self, *args, **kwargs):
        with self.lock:
            self._refresh()
            return super().search(*args, **kwargs)

    def create(self, *args, **kwargs):
        with self.lock:
            self._refresh()
            created = super().create(*args, **kwargs)
            self._save()
            return created

    def update(self, *args, **kwargs):
        with self.lock:
            self._refresh()
            updated = super().update(*args, **kwargs)
            self._save()
            return updated

    def delete(self, *args, **kwargs):
        with self.lock:
            self._refresh()
            super().delete(*args, **kwargs)
            self._save()


class FileBackedReceiver(WebhookReceiver):
    """The tests' receiver, its holders and applied deliveries kept in a file."""

    def __init__(self, *, secret: str, path: Path):
        super().__init__(secret=secret)
        self.path = path
        self._file_lock = threading.Lock()

    def load(self) -> None:
        data = json.loads(self.path.read_text()) if self.path.exists() else {}
        self.holders = dict(data.get("holders", {}))
        self.deliveries = dict(data.get("deliveries", {}))

    def save(self) -> None:
        _write(self.path, {"holders": self.holders, "deliveries": self.deliveries})

    def handle(self, method, path, headers, body):
        with self._file_lock:
            self.load()
            answer = super().handle(method, path, headers, body)
            if method == "POST":
                self.save()
            return answer


@functools.cache
def _scim(path: Path, token: str):
    from scim2_server.testserver.application import BearerTokenApplication

    storage = FileBackedStorage(path)
    return BearerTokenApplication(storage, _provider(), bearer_tokens=[token]), storage


def scim_application():
    """The demo's SCIM application and its storage (one per process and state directory)."""
    return _scim(state_dir() / "scim.json", scim_token())


@functools.cache
def _receiver(path: Path, secret: str) -> FileBackedReceiver:
    return FileBackedReceiver(secret=secret, path=path)


def receiver() -> FileBackedReceiver:
    return _receiver(state_dir() / "webhooks.json", webhook_secret())


def _debug_only() -> None:
    if not settings.DEBUG:
        raise Http404("The demo's systems exist in debug only.")


@csrf_exempt
def scim_view(request, rest=None):
    """scim2-server, mounted: the rest of the path is its PATH_INFO, the mount its SCRIPT_NAME."""
    _debug_only()
    app, _storage = scim_application()
    rest = rest or ""
    body = request.body
    environ = dict(request.META)
    mount = request.path_info[: len(request.path_info) - len(rest)] if rest else request.path_info
    environ.update({
        "SCRIPT_NAME": request.META.get("SCRIPT_NAME", "").rstrip("/") + mount,
        "PATH_INFO": rest or "/",
        "wsgi.input": io.BytesIO(body),
        "CONTENT_LENGTH": str(len(body)),
    })  # fmt: skip
    answer: dict[str, Any] = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, headers

    content = b"".join(app(environ, start_response))
    response = HttpResponse(content, status=int(answer["status"].split()[0]))
    for key, value in answer["headers"]:
        response[key] = value
    return response


@csrf_exempt
def webhook_view(request, rest=None):
    """The demo license server: checks each signature, applies each delivery once, reads back."""
    _debug_only()
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in request.META.items()
        if key.startswith("HTTP_")
    }
    status, answer = receiver().handle(request.method, rest or "", headers, request.body)
    return JsonResponse(answer, status=status)


def _mounted(environ: dict[str, Any], start_response: Any):
    """The demo systems as one WSGI application at the paths the app mounts them under."""
    path = environ.get("PATH_INFO", "")
    for mount, app in ((SCIM_PATH, scim_application()[0]), (WEBHOOK_PATH, receiver())):
        if path == mount or path.startswith(mount + "/"):
            rest = path[len(mount) :] or "/"
            return app({**environ, "SCRIPT_NAME": mount, "PATH_INFO": rest}, start_response)
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not a demo system"]


def served_here():
    """Within this block the demo systems answer in this process, at ``SITE_URL``: the seed
    runs before runserver does, and its deliveries must still reach them (and be read back)."""
    import httpx2

    from .connectors.base import served_in_process

    return served_in_process({settings.SITE_URL: httpx2.WSGITransport(app=_mounted)})
