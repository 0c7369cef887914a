import pytest

from audit.selectors import audit_verify_chain
from licensing import services
from licensing.errors import ConflictError, TransitionNotAllowed
from licensing.models import Entitlement, LedgerEntry
from tests.factories import EntitlementFactory
from tests.support import race


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "transitions",
    [("suspend", "suspend"), ("suspend", "revoke"), ("revoke", "hold")],
    ids=["same", "suspend-vs-revoke", "revoke-vs-hold"],
)
def test_two_concurrent_transitions_on_one_entitlement_exactly_one_wins(manager, transitions):
    entitlement = EntitlementFactory()
    seen = entitlement.version

    def attempt(name):
        return lambda: services.entitlement_transition(
            actor=manager, entitlement_id=entitlement.pk, transition=name,
            reason=f"Racing to {name}", expected_version=seen,
        )  # fmt: skip

    outcomes = race([attempt(name) for name in transitions])

    winners = [o for o in outcomes if isinstance(o, Entitlement)]
    losers = [o for o in outcomes if isinstance(o, ConflictError | TransitionNotAllowed)]
    assert len(winners) == 1, outcomes
    assert len(losers) == 1, outcomes
    stored = Entitlement.objects.get(pk=entitlement.pk)
    assert stored.state == winners[0].state
    assert stored.version == seen + 1
    assert LedgerEntry.objects.filter(entitlement=entitlement).count() == 3  # grant, activate, win
    assert audit_verify_chain().ok


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_without_a_version_the_second_suspend_finds_it_suspended(manager):
    entitlement = EntitlementFactory()

    def attempt():
        return services.entitlement_transition(
            actor=manager, entitlement_id=entitlement.pk, transition="suspend", reason="Race"
        )

    outcomes = race([attempt, attempt, attempt])

    assert sum(isinstance(o, Entitlement) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, TransitionNotAllowed) for o in outcomes) == 2, outcomes
    assert entitlement.history.filter(state="suspended").count() == 1
