"""The SCIM connector against a real scim2-server in a thread."""

import datetime
import logging
import socket
import traceback

import pytest

from licensing.deprovisioning.connectors import Change, ConnectorError, connector_for
from licensing.deprovisioning.connectors.scim import ScimConnector
from tests.licensing.deprovisioning import SCIM_TOKEN


def change(external_id, *, group_id=None):
    return Change(
        external_id=external_id,
        idempotency_key=f"delivery-{external_id}",
        entitlement="ent-1",
        contract="C-1",
        effective_date=datetime.date(2030, 1, 31),
        group_id=group_id,
    )


def test_revoke_deactivates_the_user(directory, scim):
    user_id = directory.add_user("alice")

    scim.revoke(change(user_id))

    assert directory.user(user_id).active is False


def test_read_back_reports_the_users_state(directory, scim):
    active_id = directory.add_user("alice")
    inactive_id = directory.add_user("bob", active=False)

    assert scim.read_back(active_id) is True
    assert scim.read_back(inactive_id) is False


def test_read_back_of_a_missing_user_is_none(scim):
    assert scim.read_back("no-such-user") is None


def test_restore_reactivates_the_user(directory, scim):
    user_id = directory.add_user("alice", active=False)

    scim.restore(change(user_id))

    assert directory.user(user_id).active is True
    assert scim.read_back(user_id) is True


def test_revoking_twice_is_harmless(directory, scim):
    user_id = directory.add_user("alice")

    scim.revoke(change(user_id))
    scim.revoke(change(user_id))

    assert scim.read_back(user_id) is False


def test_delete_mode_deletes_the_user(directory, scim):
    user_id = directory.add_user("alice")

    scim.revoke(change(user_id), delete=True)

    assert directory.user(user_id) is None
    assert scim.read_back(user_id) is None


def test_deleting_an_already_deleted_user_succeeds(directory, scim):
    user_id = directory.add_user("alice")
    scim.revoke(change(user_id), delete=True)

    scim.revoke(change(user_id), delete=True)

    assert scim.read_back(user_id) is None


def test_restoring_a_deleted_user_fails_permanently(scim):
    with pytest.raises(ConnectorError) as caught:
        scim.restore(change("no-such-user"))

    assert caught.value.retryable is False
    assert caught.value.status == 404


def test_revoking_a_role_removes_the_group_membership_only(directory, scim):
    user_id = directory.add_user("alice")
    other_id = directory.add_user("bob")
    group_id = directory.add_group("admins", members=[user_id, other_id])

    scim.revoke(change(user_id, group_id=group_id))

    assert directory.members(group_id) == {other_id}
    assert directory.user(user_id).active is True
    assert scim.read_back(user_id, group_id=group_id) is False


def test_restoring_a_role_adds_the_member_back(directory, scim):
    user_id = directory.add_user("alice")
    group_id = directory.add_group("admins")

    scim.restore(change(user_id, group_id=group_id))

    assert directory.members(group_id) == {user_id}
    assert scim.read_back(user_id, group_id=group_id) is True


def test_revoking_a_role_already_removed_succeeds(directory, scim):
    user_id = directory.add_user("alice")
    group_id = directory.add_group("admins")

    scim.revoke(change(user_id, group_id=group_id))

    assert directory.members(group_id) == set()


def test_read_back_of_a_missing_group_is_none(directory, scim):
    user_id = directory.add_user("alice")

    assert scim.read_back(user_id, group_id="no-such-group") is None


def test_list_holders_pages_through_every_user(directory, scim, monkeypatch):
    monkeypatch.setattr("licensing.deprovisioning.connectors.scim.PAGE_SIZE", 2)
    ids = {directory.add_user(f"user{n}", active=n % 2 == 0): n % 2 == 0 for n in range(5)}

    holders = list(scim.list_holders())

    assert {holder.external_id: holder.active for holder in holders} == ids
    assert len(holders) == 5


def test_list_holders_of_a_group_lists_its_members(directory, scim):
    user_id = directory.add_user("alice")
    directory.add_user("bob")
    group_id = directory.add_group("admins", members=[user_id])

    assert [h.external_id for h in scim.list_holders(group_id=group_id)] == [user_id]


def test_a_bad_token_is_a_permanent_error_that_does_not_show_the_token(directory):
    user_id = directory.add_user("alice")
    wrong = "wrong-token-also-secret"
    connector = connector_for("scim2", base_url=directory.base_url, secret=wrong, timeout=5)

    with pytest.raises(ConnectorError) as caught:
        connector.revoke(change(user_id))

    assert caught.value.retryable is False
    assert caught.value.status == 401
    shown = "".join(traceback.format_exception(caught.value)) + repr(connector)
    assert wrong not in shown
    assert directory.user(user_id).active is True


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_server_that_is_down_is_a_retryable_error(caplog):
    url = f"http://127.0.0.1:{free_port()}/v2"
    caplog.set_level(logging.DEBUG)

    connector = ScimConnector(base_url=url, secret=SCIM_TOKEN, timeout=2)

    with pytest.raises(ConnectorError) as caught:
        connector.revoke(change("alice"))

    assert caught.value.retryable is True
    assert caught.value.status is None
    shown = "".join(traceback.format_exception(caught.value)) + caplog.text
    assert SCIM_TOKEN not in shown


def test_a_server_that_does_not_answer_in_time_is_a_retryable_error():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v2"

        connector = ScimConnector(base_url=url, secret=SCIM_TOKEN, timeout=0.3)

        with pytest.raises(ConnectorError) as caught:
            connector.read_back("alice")

    assert caught.value.retryable is True
