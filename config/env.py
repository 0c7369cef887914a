"""Typed readers for environment variables that fail loudly on a bad value."""

import base64
import hashlib
import os

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"Set the {name} environment variable.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {raw!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_fernet_keys(name: str, *, dev_salt: str | None, required: bool) -> list[str]:
    """Fernet keys from a comma-separated variable: the first seals, all open (rotation).

    Unset, the keys are one derived from `dev_salt` (debug and tests pass the setting's purpose
    and SECRET_KEY, so the key is stable across restarts and valid nowhere else), or none when
    `dev_salt` is None, as in production. A `required` setting with no keys stops the start, and
    so does any value that is not a Fernet key: found at start, not when data is first sealed.
    The message names the variable and the entry, never the value (it may be a real key).
    """
    if os.environ.get(name) is None and dev_salt is not None:
        keys = [base64.urlsafe_b64encode(hashlib.sha256(dev_salt.encode()).digest()).decode()]
    else:
        keys = env_list(name, [])
    if required and not keys:
        raise ImproperlyConfigured(
            f"Set {name} to one or more Fernet keys (comma-separated); make one with "
            'python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"'
        )
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} holds a value that is not a Fernet key (entry {position} of {len(keys)}): "
                "a Fernet key is 32 bytes, base64url-encoded (44 characters)."
            ) from None
    return keys
