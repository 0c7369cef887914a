"""SCIM 2.0 (RFC 7643/7644) through scim2-client's httpx2 engine and scim2-models' resources.

Revoking a seat deactivates the user (``PATCH /Users/{id}`` replacing ``active``), or deletes
it when the policy says so; revoking a role held as a group membership removes the member from
the group. Restoring reverses either. Read-back is a plain ``GET``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx2
from scim2_client import SCIMClientException
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import (
    Group,
    ListResponse,
    PatchOp,
    PatchOperation,
    SCIMException,
    ScimProvider,
    SearchRequest,
    User,
)

from licensing.deprovisioning.connectors.base import (
    Change,
    ConnectorError,
    Holder,
    tls_context,
    transport_for,
)

PAGE_SIZE = 100
NOT_FOUND = 404


def _status_of(exc: Exception) -> int | None:
    status = getattr(exc, "status", None)
    if isinstance(status, int):
        return status
    source = getattr(exc, "source", None)
    return getattr(source, "status_code", None)


@contextmanager
def _as_connector_error(what: str, *, missing_is_fine: bool = False) -> Iterator[None]:
    """Turn scim2-client's and scim2-models' errors into one ``ConnectorError``.

    The original exception is dropped (``from None``): its request carries the bearer token.
    """
    try:
        yield
    except (SCIMClientException, SCIMException) as exc:
        status = _status_of(exc)
        if status == NOT_FOUND and missing_is_fine:
            return
        if status is None:
            # No answer at all (refused, timed out, reset) is worth another try; an answer we
            # cannot read is not.
            retryable = isinstance(exc.__cause__, httpx2.TransportError)
            cause = type(exc.__cause__ or exc).__name__
            raise ConnectorError(f"{what} failed: {cause}", retryable=retryable) from None
        raise ConnectorError.for_status(what, status) from None


class ScimConnector:
    lists_holders = True

    def __init__(self, *, base_url: str, secret: str, timeout: float):
        self.base_url = base_url.rstrip("/")
        self._http = httpx2.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {secret}"},
            timeout=timeout,
            verify=tls_context(),
            transport=transport_for(self.base_url),
        )
        # Users and Groups as RFC 7643 defines them: no discovery round trip per delivery.
        self._scim = SyncSCIMClient(self._http, provider=ScimProvider(models=[User, Group]))

    def __repr__(self) -> str:
        return f"ScimConnector({self.base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ScimConnector:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def revoke(self, change: Change, *, delete: bool = False) -> None:
        """Take access away; what is already gone counts as taken away."""
        if change.group_id:
            self._remove_member(change.group_id, change.external_id)
        elif delete:
            with _as_connector_error(
                f"SCIM DELETE Users/{change.external_id}", missing_is_fine=True
            ):
                self._scim.delete(User, change.external_id)
        else:
            self._set_active(change.external_id, False, missing_is_fine=True)

    def restore(self, change: Change) -> None:
        """Give access back; a deleted user cannot be restored and fails permanently."""
        if change.group_id:
            self._add_member(change.group_id, change.external_id)
        else:
            self._set_active(change.external_id, True, missing_is_fine=False)

    def read_back(self, external_id: str, *, group_id: str | None = None) -> bool | None:
        """``True``/``False`` for an active/inactive user or a member/non-member of the group;
        ``None`` when the user (or the group) does not exist."""
        if group_id:
            members = self._members(group_id)
            return None if members is None else external_id in members
        user = self._get(User, external_id, what=f"SCIM GET Users/{external_id}")
        if user is None:
            return None
        # RFC 7643 leaves `active` optional; a user without it is taken as active.
        return user.active is not False

    def names(self, external_id: str, *, group_id: str | None = None) -> tuple[str, str]:
        """What people call the user (displayName, else userName, else the first e-mail) and
        the group (its displayName); empty where the system has none or does not know them."""
        user = self._get(User, external_id, what=f"SCIM GET Users/{external_id}")
        holder = ""
        if user is not None:
            emails = [e.value for e in user.emails or () if e.value]
            holder = user.display_name or user.user_name or (emails[0] if emails else "")
        group = self._get(Group, group_id, what=f"SCIM GET Groups/{group_id}") if group_id else None
        return holder or "", (group.display_name or "") if group is not None else ""

    def list_holders(self, *, group_id: str | None = None) -> Iterator[Holder]:
        """Every user (or every member of the group), a page at a time."""
        if group_id:
            for member in sorted(self._members(group_id) or ()):
                yield Holder(external_id=member, active=True)
            return
        start = 1
        while True:
            with _as_connector_error("SCIM GET Users"):
                page: Any = self._scim.query(
                    User, query_parameters=SearchRequest(start_index=start, count=PAGE_SIZE)
                )
            assert isinstance(page, ListResponse)
            users = page.resources or []
            for user in users:
                yield Holder(external_id=user.id, active=user.active is not False)
            start += len(users)
            if not users or start > (page.total_results or 0):
                return

    def _get(self, model: type[Any], resource_id: str, *, what: str) -> Any:
        with _as_connector_error(what, missing_is_fine=True):
            return self._scim.query(model, resource_id)
        return None

    def _members(self, group_id: str) -> set[str] | None:
        group = self._get(Group, group_id, what=f"SCIM GET Groups/{group_id}")
        if group is None:
            return None
        return {member.value for member in group.members or ()}

    def _set_active(self, external_id: str, active: bool, *, missing_is_fine: bool) -> None:
        patch = PatchOp[User](
            operations=[PatchOperation[User](op="replace", path="active", value=active)]
        )
        what = f"SCIM PATCH Users/{external_id}"
        with _as_connector_error(what, missing_is_fine=missing_is_fine):
            self._scim.modify(User, external_id, patch)

    def _remove_member(self, group_id: str, external_id: str) -> None:
        path = f'members[value eq "{_quoted(external_id)}"]'
        patch = PatchOp[Group](operations=[PatchOperation[Group](op="remove", path=path)])
        with _as_connector_error(f"SCIM PATCH Groups/{group_id}", missing_is_fine=True):
            self._scim.modify(Group, group_id, patch)

    def _add_member(self, group_id: str, external_id: str) -> None:
        value = [{"value": external_id}]
        patch = PatchOp[Group](
            operations=[PatchOperation[Group](op="add", path="members", value=value)]
        )
        with _as_connector_error(f"SCIM PATCH Groups/{group_id}"):
            self._scim.modify(Group, group_id, patch)


def _quoted(value: str) -> str:
    """A value safe inside a SCIM filter's double quotes (RFC 7644 §3.4.2.2 uses JSON strings)."""
    return value.replace("\\", "\\\\").replace('"', '\\"')
