import io
from datetime import date

import pytest
from django.core.management import call_command
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from licensing import services
from licensing.errors import DomainError
from licensing.models import Contract, Entitlement
from licensing.selectors import Holding, contract_holdings_now, contract_holdings_on
from tests.factories import ContractFactory, EntitlementFactory


def _move(actor, entitlement, transition, on):
    services.entitlement_transition(
        actor=actor, entitlement_id=entitlement.pk, transition=transition, reason="Test",
        effective_date=on,
    )  # fmt: skip


@pytest.mark.django_db
def test_holdings_on_a_date_follow_the_ledger_through_time(manager):
    contract = ContractFactory()
    seats = EntitlementFactory(contract=contract, quantity=50, starts_on=date(2026, 1, 1))
    _move(manager, seats, "suspend", date(2026, 3, 1))
    _move(manager, seats, "revoke", date(2026, 5, 1))
    _move(manager, seats, "restore", date(2026, 6, 1))

    def on(day):
        return contract_holdings_on(contract_id=contract.pk, on=day).get(seats.pk)

    assert on(date(2025, 12, 31)) is None
    assert on(date(2026, 1, 1)) == Holding(50, "active")
    assert on(date(2026, 3, 31)) == Holding(50, "suspended")
    assert on(date(2026, 5, 15)) == Holding(0, "revoked")
    assert on(date(2026, 6, 1)) == Holding(50, "restored")


@pytest.mark.django_db
def test_a_quantity_change_is_a_ledger_delta(manager):
    seats = EntitlementFactory(quantity=50, starts_on=date(2026, 1, 1))

    services.entitlement_change_quantity(
        actor=manager, entitlement_id=seats.pk, quantity=20, reason="Downgrade",
        effective_date=date(2026, 4, 1),
    )  # fmt: skip

    holdings = contract_holdings_on(contract_id=seats.contract_id, on=date(2026, 3, 31))
    assert holdings[seats.pk].quantity == 50
    holdings = contract_holdings_on(contract_id=seats.contract_id, on=date(2026, 4, 1))
    assert holdings[seats.pk].quantity == 20


@pytest.mark.django_db
def test_a_negative_quantity_is_refused_and_nothing_is_written(manager):
    seats = EntitlementFactory(quantity=5)
    entries = seats.ledger.count()

    with pytest.raises(DomainError):
        services.entitlement_change_quantity(
            actor=manager, entitlement_id=seats.pk, quantity=-1, reason="Oops"
        )

    assert seats.ledger.count() == entries


@pytest.mark.django_db
def test_ledger_equals_current_state_for_every_demo_contract_today():
    call_command("seed_demo", password="demo", stdout=io.StringIO())
    today = timezone.localdate()
    contracts = list(Contract.objects.values_list("pk", flat=True))
    assert len(contracts) >= 20
    states = set(Entitlement.objects.values_list("state", flat=True))
    assert states == set(Entitlement.State.values), "demo data covers every lifecycle state"

    for pk in contracts:
        assert contract_holdings_on(contract_id=pk, on=today) == contract_holdings_now(
            contract_id=pk
        ), f"contract {pk}"


@pytest.mark.django_db
def test_seed_demo_twice_duplicates_nothing():
    call_command("seed_demo", password="demo", stdout=io.StringIO())
    counts = (Contract.objects.count(), Entitlement.objects.count())

    call_command("seed_demo", password="other", stdout=io.StringIO())

    assert (Contract.objects.count(), Entitlement.objects.count()) == counts


@pytest.mark.django_db
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(st.sampled_from(services.ENTITLEMENT_TRANSITIONS), max_size=10))
def test_any_sequence_of_transitions_keeps_ledger_and_state_equal(manager, steps):
    entitlement = EntitlementFactory(state="pending", quantity=7)
    for step in steps:
        try:
            _move(manager, entitlement, step, None)
        except DomainError:
            continue  # An illegal step changes nothing; the property must still hold.

    today = timezone.localdate()
    ledger = contract_holdings_on(contract_id=entitlement.contract_id, on=today)
    assert ledger == contract_holdings_now(contract_id=entitlement.contract_id)
