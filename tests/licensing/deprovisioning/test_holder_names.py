"""Pages name SCIM holders and groups (displayName, userName, e-mail), not the system's ids."""

import pytest
from django.utils import timezone

from licensing.deprovisioning import services
from licensing.models import Assignment

# Real commits: names are read from the identity provider after the assignment commits.
pytestmark = pytest.mark.django_db(transaction=True)


def test_a_scim_holder_and_group_are_named_from_the_identity_provider(estate):
    seats, _key, role = estate["entitlements"]

    user = Assignment.objects.get(entitlement=seats)
    member = Assignment.objects.get(entitlement=role)

    assert (user.holder_name, user.holder_label) == ("alice", "alice")
    assert (member.holder_name, member.group_name) == ("bob", "admins")
    assert member.history.latest().history_change_reason == "Names read from the identity provider"


def test_a_webhook_account_keeps_its_own_id_as_its_name(estate):
    _seats, key, _role = estate["entitlements"]

    account = Assignment.objects.get(entitlement=key)

    assert (account.holder_name, account.holder_label) == ("", "acct-7")


def test_a_display_name_wins_over_the_user_name(admin_user, estate, directory):
    from scim2_models import User

    idp = estate["systems"][0]
    named = directory._scim.create(User(user_name="c.jones", display_name="Carol Jones")).id

    a = services.assignment_create(
        actor=admin_user, entitlement=estate["entitlements"][0], system=idp, external_id=named
    )

    a.refresh_from_db()
    assert a.holder_label == "Carol Jones"


def test_names_given_by_the_creator_are_kept_and_nothing_is_read(admin_user, estate):
    idp = estate["systems"][0]
    idp.base_url = "http://127.0.0.1:9/v2"  # would fail if it were asked
    idp.save(update_fields=["base_url"])

    a = services.assignment_create(
        actor=admin_user, entitlement=estate["entitlements"][0], system=idp, external_id="u-9",
        holder_name="Erin Moss",
    )  # fmt: skip

    a.refresh_from_db()
    assert a.holder_label == "Erin Moss" and a.history.count() == 1


def test_a_system_that_cannot_answer_leaves_the_id_and_the_assignment_stands(admin_user, estate):
    idp = estate["systems"][0]
    idp.base_url = "http://127.0.0.1:9/v2"  # nothing listens on the discard port
    idp.save(update_fields=["base_url"])

    a = services.assignment_create(
        actor=admin_user, entitlement=estate["entitlements"][0], system=idp, external_id="u-77"
    )

    a.refresh_from_db()
    assert (a.holder_name, a.holder_label) == ("", "u-77")


def test_the_run_page_plan_and_system_page_show_names_not_scim_ids(client, manager, estate):
    _contract, run = services.contract_terminate(
        actor=manager, contract_id=estate["contract"].pk, reason="Ended", on=timezone.localdate()
    )
    idp = estate["systems"][0]
    client.force_login(manager)

    run_page = client.get(f"/deprovisioning/runs/{run.pk}/").content.decode()
    system_page = client.get(f"/deprovisioning/systems/{idp.pk}/").content.decode()

    assert "alice" in run_page and "bob in admins" in run_page
    for scim_id in (estate["user"], estate["member"], estate["group"]):
        assert scim_id not in run_page
    assert "alice" in system_page and estate["user"] not in system_page
