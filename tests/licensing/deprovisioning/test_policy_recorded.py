"""Every change to a hold or a blackout window records who, when, why and the policy version."""

from datetime import timedelta

import pytest

from audit.models import AuditEvent
from licensing.deprovisioning import services
from licensing.deprovisioning.models import BlackoutWindow, DeprovisioningHold
from licensing.models import PolicyVersion
from tests.factories import ContractFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def revocation_v2(manager, admin_user, today):
    """A second revocation policy in force from tomorrow, drafted and published by two people."""
    v1 = PolicyVersion.objects.get(kind="revocation", number=1)
    draft = services.policy_draft(
        actor=manager, kind="revocation", rules=v1.rules, summary="Same rules, new date",
        effective_from=today + timedelta(days=1), reason="Yearly review",
    )  # fmt: skip
    return services.policy_publish(
        actor=admin_user, policy_id=draft.pk, reason="Reviewed", on=today
    )


def event(action, obj):
    return AuditEvent.objects.get(action=action, object_id=str(obj.pk))


def test_placing_and_lifting_a_hold_record_the_policy_version_in_event_and_history(
    manager, manager2, today
):
    contract = ContractFactory()

    hold = services.hold_place(
        actor=manager, contract=contract, kind="legal_hold", reason="Litigation", on=today
    )
    services.hold_lift(actor=manager2, hold_id=hold.pk, reason="Settled", on=today)

    placed, lifted = (
        event("deprovisioning_hold.place", hold),
        event("deprovisioning_hold.lift", hold),
    )
    assert (placed.policy_version, placed.actor_username, placed.reason) == (
        "revocation/v1", manager.username, "Litigation",
    )  # fmt: skip
    assert (lifted.policy_version, lifted.actor_username, lifted.reason) == (
        "revocation/v1", manager2.username, "Settled",
    )  # fmt: skip
    history = DeprovisioningHold.history.filter(id=hold.pk).order_by("history_date")
    assert [(h.history_user, h.history_change_reason, h.policy.label) for h in history] == [
        (manager, "Litigation", "revocation/v1"),
        (manager2, "Settled", "revocation/v1"),
    ]


def test_a_blackout_window_records_the_policy_version_in_event_and_history(manager, today):
    contract = ContractFactory()

    window = services.blackout_add(
        actor=manager, contract=contract, starts_on=today, ends_on=today + timedelta(days=7),
        reason="Quarter close", on=today,
    )  # fmt: skip

    added = event("blackout.add", window)
    assert (added.policy_version, added.reason) == ("revocation/v1", "Quarter close")
    (row,) = BlackoutWindow.history.filter(id=window.pk)
    assert (row.history_user, row.history_change_reason, row.policy.label) == (
        manager, "Quarter close", "revocation/v1",
    )  # fmt: skip


def test_a_hold_on_a_contract_with_an_open_run_records_the_runs_policy_not_a_newer_one(
    manager, manager2, revocation_v2, pinned_clock, today
):
    contract = ContractFactory()
    run = services.run_start(
        actor=manager, contract=contract, trigger="termination", reason="Ended",
        effective_date=today + timedelta(days=30), on=today,
    )  # fmt: skip
    later = today + timedelta(days=2)  # v2 is in force by then

    hold = services.hold_place(
        actor=manager, contract=contract, kind="open_dispute", reason="Disputed", on=later
    )
    free = services.hold_place(
        actor=manager, contract=ContractFactory(), kind="open_dispute", reason="Other", on=later
    )

    assert run.policy.label == "revocation/v1"
    assert event("deprovisioning_hold.place", hold).policy_version == "revocation/v1"
    assert event("deprovisioning_hold.place", free).policy_version == "revocation/v2"
