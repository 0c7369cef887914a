from datetime import date, timedelta

import pytest
from django_fsm import can_proceed

from audit.models import AuditEvent
from licensing import services
from licensing.errors import ActionForbidden, ConflictError, DomainError, TransitionNotAllowed
from licensing.models import Contract, Entitlement, LedgerEntry
from tests.factories import ContractFactory, EntitlementFactory

S = Entitlement.State

# Every legal entitlement transition: (start state, transition, resulting state).
LEGAL = [
    (S.PENDING, "activate", S.ACTIVE),
    (S.RESTORED, "activate", S.ACTIVE),
    (S.ACTIVE, "suspend", S.SUSPENDED),
    (S.GRACE, "suspend", S.SUSPENDED),
    (S.RESTORED, "suspend", S.SUSPENDED),
    (S.SUSPENDED, "resume", S.ACTIVE),
    (S.ACTIVE, "start_grace", S.GRACE),
    (S.SUSPENDED, "start_grace", S.GRACE),
    (S.RESTORED, "start_grace", S.GRACE),
    (S.ACTIVE, "hold", S.HELD),
    (S.SUSPENDED, "hold", S.HELD),
    (S.GRACE, "hold", S.HELD),
    (S.RESTORED, "hold", S.HELD),
    (S.ACTIVE, "revoke", S.REVOKED),
    (S.SUSPENDED, "revoke", S.REVOKED),
    (S.GRACE, "revoke", S.REVOKED),
    (S.RESTORED, "revoke", S.REVOKED),
    (S.REVOKED, "restore", S.RESTORED),
]

ILLEGAL = [
    (S.PENDING, "suspend"),
    (S.PENDING, "revoke"),
    (S.ACTIVE, "activate"),
    (S.ACTIVE, "resume"),
    (S.ACTIVE, "restore"),
    (S.HELD, "revoke"),
    (S.HELD, "suspend"),
    (S.REVOKED, "suspend"),
    (S.REVOKED, "revoke"),
    (S.EXPIRED, "activate"),
    (S.EXPIRED, "restore"),
    (S.SUSPENDED, "release_hold"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("start", "transition", "end"), LEGAL)
def test_legal_entitlement_transition_changes_state_and_records_it(manager, start, transition, end):
    entitlement = EntitlementFactory(state=start)
    events_before = AuditEvent.objects.count()

    result = services.entitlement_transition(
        actor=manager, entitlement_id=entitlement.pk, transition=transition, reason="Because."
    )

    assert result.state == end
    assert Entitlement.objects.get(pk=entitlement.pk).state == end
    entry = LedgerEntry.objects.filter(entitlement=entitlement).latest("id")
    assert (entry.action, entry.state_after, entry.actor, entry.reason) == (
        transition,
        end,
        manager,
        "Because.",
    )
    assert entry.policy_version == "lifecycle/v2"
    history = entitlement.history.latest()
    assert (history.state, history.history_user, history.history_change_reason) == (
        end,
        manager,
        "Because.",
    )
    event = AuditEvent.objects.latest("seq")
    assert AuditEvent.objects.count() == events_before + 1
    assert event.action == f"entitlement.{transition}"
    assert event.data["from"] == start and event.data["to"] == end
    assert event.actor == manager and event.policy_version == "lifecycle/v2"


@pytest.mark.django_db
@pytest.mark.parametrize(("start", "transition"), ILLEGAL)
def test_illegal_entitlement_transition_is_refused_naming_state_and_transition(
    manager, start, transition
):
    entitlement = EntitlementFactory(state=start)
    ledger_before = LedgerEntry.objects.count()

    with pytest.raises(TransitionNotAllowed) as refused:
        services.entitlement_transition(
            actor=manager, entitlement_id=entitlement.pk, transition=transition, reason="Try"
        )

    label = services.TRANSITION_LABELS[transition].lower()
    assert label in str(refused.value)
    assert entitlement.get_state_display().lower() in str(refused.value)
    assert Entitlement.objects.get(pk=entitlement.pk).state == start
    assert LedgerEntry.objects.count() == ledger_before


@pytest.mark.django_db
@pytest.mark.parametrize("held_from", [S.ACTIVE, S.SUSPENDED, S.GRACE])
def test_release_hold_returns_to_the_state_the_hold_interrupted(manager, held_from):
    entitlement = EntitlementFactory(state=held_from)
    services.entitlement_transition(
        actor=manager, entitlement_id=entitlement.pk, transition="hold", reason="Legal hold"
    )

    released = services.entitlement_transition(
        actor=manager, entitlement_id=entitlement.pk, transition="release_hold", reason="Closed"
    )

    assert released.state == held_from
    assert released.held_from == ""


@pytest.mark.django_db
def test_expire_waits_for_the_end_date(manager):
    entitlement = EntitlementFactory(ends_on=date(2999, 1, 1))

    with pytest.raises(TransitionNotAllowed, match="end date has not passed"):
        services.entitlement_transition(
            actor=manager, entitlement_id=entitlement.pk, transition="expire", reason="Ended"
        )


@pytest.mark.django_db
def test_start_grace_sets_grace_end_from_the_contract(manager):
    entitlement = EntitlementFactory(contract=ContractFactory(grace_days=14))

    result = services.entitlement_transition(
        actor=manager, entitlement_id=entitlement.pk, transition="start_grace", reason="Renewal",
        effective_date=date(2026, 6, 1),
    )  # fmt: skip

    assert result.grace_ends_on == date(2026, 6, 15)


@pytest.mark.django_db
def test_transition_without_reason_is_refused(manager):
    entitlement = EntitlementFactory()

    with pytest.raises(DomainError, match="reason"):
        services.entitlement_transition(
            actor=manager, entitlement_id=entitlement.pk, transition="suspend", reason="  "
        )

    assert Entitlement.objects.get(pk=entitlement.pk).state == S.ACTIVE


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("manager", True),
        ("admin_user", True),
        ("analyst", False),
        ("approver", False),
        ("controller", False),
        ("auditor", False),
        ("customer_user", False),
    ],
    indirect=["persona"],
)
def test_only_roles_with_the_permission_may_transition(persona, allowed):
    entitlement = EntitlementFactory()

    if allowed:
        services.entitlement_transition(
            actor=persona, entitlement_id=entitlement.pk, transition="suspend", reason="Overdue"
        )
        assert Entitlement.objects.get(pk=entitlement.pk).state == S.SUSPENDED
    else:
        with pytest.raises(ActionForbidden):
            services.entitlement_transition(
                actor=persona, entitlement_id=entitlement.pk, transition="suspend", reason="No"
            )
        assert Entitlement.objects.get(pk=entitlement.pk).state == S.ACTIVE


@pytest.mark.django_db
def test_a_stale_version_loses_with_a_conflict(manager):
    entitlement = EntitlementFactory()
    seen = entitlement.version
    services.entitlement_transition(
        actor=manager, entitlement_id=entitlement.pk, transition="suspend", reason="First"
    )

    with pytest.raises(ConflictError, match="changed by someone else"):
        services.entitlement_transition(
            actor=manager, entitlement_id=entitlement.pk, transition="revoke", reason="Second",
            expected_version=seen,
        )  # fmt: skip

    assert Entitlement.objects.get(pk=entitlement.pk).state == S.SUSPENDED


@pytest.mark.django_db
def test_the_ledger_refuses_a_change_dated_before_the_last_one(manager):
    entitlement = EntitlementFactory(starts_on=date(2026, 3, 1))

    with pytest.raises(DomainError, match="before the entitlement's last recorded change"):
        services.entitlement_transition(
            actor=manager, entitlement_id=entitlement.pk, transition="suspend", reason="Late",
            effective_date=date(2026, 2, 1),
        )  # fmt: skip


@pytest.mark.django_db
def test_state_field_cannot_be_assigned_directly():
    entitlement = EntitlementFactory()

    with pytest.raises(AttributeError):
        entitlement.state = S.REVOKED


CONTRACT_LEGAL = [
    (Contract.Status.DRAFT, ["activate"], Contract.Status.ACTIVE),
    (Contract.Status.ACTIVE, ["suspend"], Contract.Status.SUSPENDED),
    (Contract.Status.SUSPENDED, ["resume"], Contract.Status.ACTIVE),
    (Contract.Status.ACTIVE, ["terminate"], Contract.Status.TERMINATED),
    (Contract.Status.SUSPENDED, ["terminate"], Contract.Status.TERMINATED),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("start", "steps", "end"), CONTRACT_LEGAL)
def test_legal_contract_transition(manager, start, steps, end):
    contract = ContractFactory(active=start != Contract.Status.DRAFT)
    if start == Contract.Status.SUSPENDED:
        services.contract_transition(
            actor=manager, contract_id=contract.pk, transition="suspend", reason="Overdue"
        )

    for step in steps:
        contract = services.contract_transition(
            actor=manager, contract_id=contract.pk, transition=step, reason="Agreed"
        )

    assert contract.status == end
    assert AuditEvent.objects.latest("seq").action == f"contract.{steps[-1]}"
    assert contract.history.latest().history_change_reason == "Agreed"


@pytest.mark.django_db
def test_contract_expires_only_after_its_term(manager):
    running = ContractFactory(term_start=date(2026, 1, 1), term_end=date(2999, 1, 1))
    ended = ContractFactory(term_start=date(2020, 1, 1), term_end=date(2021, 1, 1))

    with pytest.raises(TransitionNotAllowed):
        services.contract_transition(
            actor=manager, contract_id=running.pk, transition="expire", reason="End"
        )
    result = services.contract_transition(
        actor=manager, contract_id=ended.pk, transition="expire", reason="End"
    )

    assert result.status == Contract.Status.EXPIRED


@pytest.mark.django_db
@pytest.mark.parametrize("transition", ["activate", "suspend", "resume", "expire"])
def test_a_terminated_contract_goes_nowhere(manager, transition):
    contract = ContractFactory()
    services.contract_transition(
        actor=manager, contract_id=contract.pk, transition="terminate", reason="Ended"
    )

    with pytest.raises(TransitionNotAllowed, match="terminated"):
        services.contract_transition(
            actor=manager, contract_id=contract.pk, transition=transition, reason="Again"
        )


@pytest.mark.django_db
def test_bulk_transition_changes_only_entitlements_that_allow_it(manager):
    contract = ContractFactory()
    active = [EntitlementFactory(contract=contract) for _ in range(3)]
    revoked = EntitlementFactory(contract=contract, state=S.REVOKED)

    count = services.entitlements_bulk_transition(
        actor=manager, contract_id=contract.pk, transition="suspend", reason="Nonpayment"
    )

    assert count == 3
    assert {e.state for e in Entitlement.objects.filter(pk__in=[e.pk for e in active])} == {
        S.SUSPENDED
    }
    assert Entitlement.objects.get(pk=revoked.pk).state == S.REVOKED
    assert LedgerEntry.objects.filter(action="suspend", contract=contract).count() == 3
    assert AuditEvent.objects.filter(action="entitlement.suspend").count() == 3
    for entitlement in active:
        latest = entitlement.history.latest()
        assert (latest.state, latest.history_user, latest.history_change_reason) == (
            S.SUSPENDED, manager, "Nonpayment"
        )  # fmt: skip


@pytest.mark.django_db
def test_nightly_expiry_expires_ended_entitlements_as_the_system(settings):
    ended = EntitlementFactory(starts_on=date(2020, 1, 1), ends_on=date(2021, 1, 1))
    running = EntitlementFactory(ends_on=date(2999, 1, 1))

    from licensing.tasks import expire_ended_entitlements

    expired = expire_ended_entitlements.delay().get()

    assert expired == 1
    assert Entitlement.objects.get(pk=ended.pk).state == S.EXPIRED
    assert Entitlement.objects.get(pk=running.pk).state == S.ACTIVE
    assert LedgerEntry.objects.filter(entitlement=ended).latest("id").actor.username == (
        services.SYSTEM_USERNAME
    )


@pytest.mark.django_db
def test_nightly_expiry_judges_the_end_date_by_the_day_it_is_given(today):
    ends_tomorrow = EntitlementFactory(ends_on=today + timedelta(days=1))

    assert services.expire_ended_entitlements(on=today) == 0
    assert Entitlement.objects.get(pk=ends_tomorrow.pk).state == S.ACTIVE
    assert services.expire_ended_entitlements(on=today + timedelta(days=1)) == 1
    assert Entitlement.objects.get(pk=ends_tomorrow.pk).state == S.EXPIRED


@pytest.mark.django_db
def test_the_nightly_task_judges_by_the_day_it_is_sent(today):
    ends_tomorrow = EntitlementFactory(ends_on=today + timedelta(days=1))

    from licensing.tasks import expire_ended_entitlements

    expired = expire_ended_entitlements.delay(on=(today + timedelta(days=1)).isoformat()).get()

    assert expired == 1
    assert Entitlement.objects.get(pk=ends_tomorrow.pk).state == S.EXPIRED


@pytest.mark.django_db
def test_a_contract_expires_when_judged_on_a_day_after_its_term(manager, today):
    contract = ContractFactory(term_start=today - timedelta(days=30), term_end=today)

    with pytest.raises(TransitionNotAllowed):
        services.contract_transition(
            actor=manager, contract_id=contract.pk, transition="expire", reason="End",
            on=today - timedelta(days=1),
        )  # fmt: skip
    result = services.contract_transition(
        actor=manager, contract_id=contract.pk, transition="expire", reason="End", on=today
    )

    assert result.status == Contract.Status.EXPIRED


def test_a_date_bound_guard_without_its_date_is_a_programming_error():
    entitlement = Entitlement(state=S.ACTIVE, quantity=1, ends_on=date(2020, 1, 1))

    with pytest.raises(ValueError, match="as_of is not set"):
        can_proceed(entitlement.expire)


def test_can_proceed_has_no_side_effects():
    entitlement = Entitlement(state=S.ACTIVE, quantity=1)

    assert can_proceed(entitlement.hold)
    assert entitlement.held_from == ""
