"""The ledger is the truth: over any sequence of grants, transitions, back-dated and
future-dated changes, with the clock moving, the entitlement's current quantity and state equal
what the ledger holds today, and `contract_holdings_on(D)` is right for every date D.

"Right" is this model: the quantity on D is the one set by the most recently recorded quantity
change dated D or earlier (a back-dated change holds from its date on); the state on D is the
one of the last change of state dated D or earlier; a state that does not hold holds nothing.
"""

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from licensing import services
from licensing.errors import DomainError
from licensing.models import Entitlement, ScheduledChange
from licensing.selectors import Holding, contract_holdings_now, contract_holdings_on
from tests.clock import pinned_now
from tests.factories import EntitlementFactory

pytestmark = pytest.mark.django_db

TRANSITIONS = ["suspend", "resume", "start_grace", "hold", "release_hold", "revoke", "restore"]

steps = st.lists(
    st.one_of(
        st.tuples(st.just("transition"), st.sampled_from(TRANSITIONS), st.integers(-20, 0)),
        st.tuples(st.just("quantity"), st.integers(0, 60), st.integers(-90, 20)),
        st.tuples(st.just("schedule"), st.sampled_from(["suspend", "resume"]),
                  st.integers(1, 20)),
        st.tuples(st.just("advance"), st.integers(1, 15), st.just(0)),
    ),
    max_size=10,
)  # fmt: skip


class Model:
    def __init__(self, entitlement: Entitlement):
        self.seq = 0
        self.quantities = [(entitlement.starts_on, self._next(), entitlement.quantity)]
        self.states = [(entitlement.starts_on, self._next(), entitlement.state)]

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def set_quantity(self, day, quantity):
        self.quantities.append((day, self._next(), quantity))

    def set_state(self, day, state):
        self.states.append((day, self._next(), state))

    def on(self, day) -> Holding | None:
        quantities = [(seq, q) for d, seq, q in self.quantities if d <= day]
        states = sorted((d, seq, s) for d, seq, s in self.states if d <= day)
        if not states:
            return None
        state = states[-1][2]
        quantity = max(quantities)[1]
        return Holding(quantity if state in Entitlement.HOLDING_STATES else 0, state)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=steps)
def test_the_ledger_is_right_on_every_date_whatever_happens(manager, pinned_clock, steps):
    pinned_clock.move_to(pinned_now())
    from django.utils import timezone

    start = timezone.localdate()
    entitlement = EntitlementFactory(
        quantity=10, starts_on=start - timedelta(days=60), ends_on=start + timedelta(days=400)
    )
    model = Model(entitlement)
    pk, contract_id = entitlement.pk, entitlement.contract_id

    def apply_due(today):
        due = ScheduledChange.objects.filter(entitlement_id=pk, state="pending",
                                             effective_date__lte=today).order_by(
            "effective_date", "pk")  # fmt: skip
        plan = [(c.pk, c.effective_date) for c in due]
        services.apply_due_changes(on=today)
        for change_pk, day in plan:
            change = ScheduledChange.objects.get(pk=change_pk)
            if change.state == "applied" and change.kind == "quantity":
                model.set_quantity(day, change.quantity_after)
            elif change.state == "applied":
                model.set_state(day, Entitlement.objects.get(pk=pk).state)

    for kind, value, offset in steps:
        today = timezone.localdate()
        day = today + timedelta(days=offset)
        try:
            if kind == "transition":
                services.entitlement_transition(
                    actor=manager, entitlement_id=pk, transition=value, reason="Test",
                    effective_date=day,
                )  # fmt: skip
                model.set_state(day, Entitlement.objects.get(pk=pk).state)
            elif kind == "quantity" and offset <= 0:
                services.entitlement_change_quantity(
                    actor=manager, entitlement_id=pk, quantity=value, reason="Test",
                    effective_date=day,
                )  # fmt: skip
                model.set_quantity(day, value)
            elif kind in ("quantity", "schedule"):
                services.change_schedule(
                    actor=manager, entitlement_id=pk, reason="Test", on=today, effective_date=day,
                    kind="quantity" if kind == "quantity" else value,
                    quantity_after=value if kind == "quantity" else None,
                )  # fmt: skip
            else:
                pinned_clock.move_to(pinned_now() + (day - start) + timedelta(days=value))
                apply_due(timezone.localdate())
        except DomainError:
            continue

    today = timezone.localdate()
    assert contract_holdings_now(contract_id=contract_id) == {
        k: v for k, v in contract_holdings_on(contract_id=contract_id, on=today).items()
    }
    for offset in range(-70, (today - start).days + 1):
        day = start + timedelta(days=offset)
        assert contract_holdings_on(contract_id=contract_id, on=day).get(pk) == model.on(day), day
