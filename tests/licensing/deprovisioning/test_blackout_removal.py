"""Removing a blackout window: a run it deferred goes ahead on its own date again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from audit.models import AuditEvent
from licensing.deprovisioning import decisions, services
from licensing.deprovisioning.models import BlackoutWindow, DeprovisioningRun
from licensing.errors import ActionForbidden, TransitionNotAllowed
from tests.support import Snapshot

# Real commits: a run brought forward advances after its transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)

REASON = "The customer's freeze was called off"


def window_of(manager, contract, *, starts: int, ends: int) -> BlackoutWindow:
    today = timezone.localdate()
    return services.blackout_add(
        actor=manager, contract=contract, starts_on=today + timedelta(days=starts),
        ends_on=today + timedelta(days=ends), reason="Year-end freeze", on=today,
    )  # fmt: skip


def deferred_run(manager, contract) -> DeprovisioningRun:
    _contract, run = services.contract_terminate(
        actor=manager, contract_id=contract.pk, reason="Terminated", on=timezone.localdate()
    )
    return DeprovisioningRun.objects.get(pk=run.pk)


def test_removing_the_window_lets_the_run_it_deferred_execute_today(
    client, manager, estate, directory, flaky_receiver
):
    contract = estate["contract"]
    window = window_of(manager, contract, starts=0, ends=7)
    run = deferred_run(manager, contract)
    assert (run.state, run.execute_on) == ("notified", window.ends_on)
    client.force_login(manager)

    response = client.post(f"/deprovisioning/blackouts/{window.pk}/remove/",
                           {"reason": REASON}, follow=True)  # fmt: skip

    assert response.status_code == 200
    assert not BlackoutWindow.objects.exists()
    run.refresh_from_db()
    assert (run.state, run.execute_on) == ("completed", timezone.localdate())
    assert directory.user(estate["user"]).active is False
    [event] = AuditEvent.objects.filter(action="blackout.remove")
    assert (event.reason, event.actor_id, event.policy_version) == (
        REASON,
        manager.pk,
        "revocation/v1",
    )
    assert event.data["runs_rescheduled"] == [
        {"run": run.pk, "execute_on": timezone.localdate().isoformat()}
    ]
    removed = BlackoutWindow.history.get(id=window.pk, history_type="-")
    assert (removed.history_user, removed.history_change_reason) == (manager, REASON)
    assert "is removed" in str(list(response.context["messages"])[0])


def test_removing_a_window_that_deferred_nothing_moves_no_run(manager, estate):
    window_of(manager, estate["contract"], starts=0, ends=7)
    later = window_of(manager, estate["contract"], starts=20, ends=30)
    run = deferred_run(manager, estate["contract"])

    decisions.blackout_remove(actor=manager, window_id=later.pk, reason=REASON,
                              on=timezone.localdate())  # fmt: skip

    assert DeprovisioningRun.objects.get(pk=run.pk).execute_on == run.execute_on
    assert BlackoutWindow.objects.count() == 1


def test_a_window_that_is_over_cannot_be_removed(manager, estate):
    window = window_of(manager, estate["contract"], starts=-10, ends=-3)
    before = Snapshot(window)

    with pytest.raises(TransitionNotAllowed, match="window is over"):
        decisions.blackout_remove(actor=manager, window_id=window.pk, reason=REASON,
                                  on=timezone.localdate())  # fmt: skip

    assert before.unchanged(), before.changes()


def test_an_auditor_may_not_remove_a_window(auditor, manager, estate):
    window = window_of(manager, estate["contract"], starts=2, ends=9)
    before = Snapshot(window)

    with pytest.raises(ActionForbidden):
        decisions.blackout_remove(actor=auditor, window_id=window.pk, reason=REASON,
                                  on=timezone.localdate())  # fmt: skip

    assert before.unchanged(), before.changes()


@pytest.mark.parametrize(("persona", "offered"), [("manager", True), ("auditor", False)])
def test_the_contract_page_offers_removal_with_a_confirmation_to_managers_only(
    client, request, manager, estate, persona, offered
):
    window_of(manager, estate["contract"], starts=2, ends=9)
    window_of(manager, estate["contract"], starts=-10, ends=-3)  # over: never offered
    client.force_login(request.getfixturevalue(persona))

    page = client.get(f"/deprovisioning/contracts/{estate['contract'].pk}/").content.decode()

    assert page.count("Remove the window</button>") == (1 if offered else 0)
    assert ('data-confirm="Remove the blackout window from' in page) is offered


def test_removing_without_a_reason_shows_the_error_beside_the_field(client, manager, estate):
    window = window_of(manager, estate["contract"], starts=2, ends=9)
    client.force_login(manager)
    before = Snapshot(window)

    response = client.post(f"/deprovisioning/blackouts/{window.pk}/remove/", {"reason": ""})

    page = response.content.decode()
    assert response.status_code == 400
    assert "Nothing was saved" in page and "Give a reason" in page
    assert before.unchanged(), before.changes()
