"""Reaching a connected system safely: its secret sealed at rest, its base URL checked.

Secrets are sealed with Fernet under ``settings.CONNECTOR_SECRET_KEYS`` through the one sealing
helper (``audit.sealing``: a MultiFernet, the first key seals, every key opens, so keys rotate by
putting a new one first and resealing). The plaintext exists only on its way in (a form or API
write) and on its way out to a connector.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from audit import sealing

SETTING = "CONNECTOR_SECRET_KEYS"


def seal_secret(plaintext: str) -> str:
    return sealing.seal(plaintext, setting=SETTING)


def open_secret(sealed: str) -> str:
    """The plaintext of a sealed secret; ``ValueError`` (without the secret) if no key opens it."""
    try:
        return sealing.unseal(sealed, setting=SETTING)
    except ValueError:
        raise ValueError("the connected system's secret cannot be opened with any key") from None


def reseal_secret(sealed: str) -> str:
    """The same secret sealed under the first key, for rotating keys."""
    return sealing.reseal(sealed, setting=SETTING)


def base_url_refusal(url: str, *, debug: bool) -> str | None:
    """Why ``url`` cannot be a connected system's base URL, or ``None`` if it can.

    Outside debug a system is reached over HTTPS at a public address, so that a base URL cannot
    point our requests, with their secrets, at our own network. In debug the loopback is
    accepted: tests and the demo serve their systems there. Names are not resolved here; the
    check refuses addresses written literally and the names that always mean this machine.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "Enter an http or https URL."
    if parts.username or parts.password:
        return "Put credentials in the secret, not in the URL."
    host = parts.hostname
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    loopback = (
        host == "localhost" or host.endswith(".localhost") or bool(address and address.is_loopback)
    )
    if debug and loopback:
        return None
    if parts.scheme != "https":
        return "Use https."
    if loopback or (address and not address.is_global):
        return "The address must be public."
    return None
