"""Attachments rendered when a mail is sent, not when it is written.

The outbox imports no other app, so an app that attaches files registers a renderer by name in
its `AppConfig.ready` (`register("credits.credit_note", render)`); a mail stores the name and
the renderer's keyword arguments, and the sending task calls the renderer. Rendering there keeps
slow work (a PDF) out of the request, and a renderer that fails is retried with the mail.
"""

from collections.abc import Callable

_renderers: dict[str, Callable[..., bytes]] = {}


def register(name: str, renderer: Callable[..., bytes]) -> None:
    _renderers[name] = renderer


def check(spec: dict) -> None:
    """Refuse, at enqueue time, an attachment the sending task could never render."""
    missing = {"renderer", "filename", "mimetype"} - set(spec)
    if missing:
        raise ValueError(f"An attachment needs {', '.join(sorted(missing))}.")
    if spec["renderer"] not in _renderers:
        raise ValueError(f"No attachment renderer is registered as {spec['renderer']!r}.")


def render(spec: dict) -> bytes:
    return _renderers[spec["renderer"]](**spec.get("kwargs", {}))
