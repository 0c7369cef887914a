"""The protocol layer of deprovisioning: one small connector per protocol.

A connector speaks to one connected system and knows nothing of our models: it takes plain
values (base URL, secret, timeout, an external id, the delivery's idempotency key), so tasks,
reconciliation and the demo can all drive it, and tests run it against real local servers.

Every connector offers the same four calls:

- ``revoke(change, *, delete=False)``: take the holder's access away (idempotent: revoking what
  is already gone succeeds);
- ``restore(change)``: give it back (a rollback);
- ``read_back(external_id, *, group_id=None) -> bool | None``: what the system says now,
  ``True`` active, ``False`` inactive, ``None`` missing;
- ``list_holders(*, group_id=None) -> Iterator[Holder]``: every holder the system knows, for
  reconciliation; only where ``lists_holders`` is true (SCIM). A webhook receiver offers no
  listing, so reconciliation of a webhook system reads back each assignment one by one and
  cannot find holders we never assigned.

Every failure is one ``ConnectorError`` whose ``retryable`` says whether trying again may help
(timeouts, refused connections, 408, 429, 5xx) or not (any other 4xx, a bad answer). Messages
never carry the secret.
"""

from licensing.deprovisioning.connectors.base import (
    Change,
    Connector,
    ConnectorError,
    Holder,
    Protocol,
    connector_for,
)

__all__ = ["Change", "Connector", "ConnectorError", "Holder", "Protocol", "connector_for"]
