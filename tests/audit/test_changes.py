"""Before and after: each timeline entry opens the fields it changed, named and readable."""

from datetime import timedelta

import pytest

from audit.changes import Change, event_changes, history_entry
from audit.models import AuditEvent
from licensing.models import Contract, Entitlement, Product
from licensing.services import entitlement_transition
from tests.factories import ProductFactory
from tests.support import paid_contract

pytestmark = pytest.mark.django_db


@pytest.fixture
def suspended(customer_a, manager, pinned_clock):
    contract = paid_contract(customer_a)
    seats = contract.entitlements.get()
    pinned_clock.shift(timedelta(minutes=10))  # as in life, set up well before the suspension
    entitlement_transition(
        actor=manager, entitlement_id=seats.pk, transition="suspend", reason="Invoice overdue"
    )
    return seats


def _latest(model, pk):
    return model.history.filter(id=pk).order_by("-history_date", "-history_id").first()


def test_a_change_shows_only_the_fields_that_changed_with_labels_and_choice_names(suspended):
    row = _latest(Entitlement, suspended.pk)

    change = history_entry("licensing.entitlement", row.history_id)

    assert change.action == "changed"
    assert Change("State", "Active", "Suspended") in change.changes
    assert all(c.label != "Quantity" for c in change.changes)
    assert change.previous is not None


def test_a_created_record_shows_its_foreign_keys_by_name_not_id(suspended, customer_a):
    row = Contract.history.filter(id=suspended.contract_id, history_type="+").get()

    change = history_entry("licensing.contract", row.history_id)

    customer = next(c for c in change.changes if c.label == "Customer")
    assert (customer.before, customer.after) == ("", customer_a.name)
    assert change.previous is None


def test_a_deleted_record_shows_what_it_held_before(db):
    product = ProductFactory(name="Retired add-on")
    pk = product.pk
    product.delete()
    row = Product.history.filter(id=pk, history_type="-").get()

    change = history_entry("licensing.product", row.history_id)

    assert change.action == "deleted"
    assert Change("Name", "Retired add-on", "") in change.changes


def test_an_event_opens_the_history_rows_written_with_it(suspended):
    event = AuditEvent.objects.get(action="entitlement.suspend")

    changes = event_changes(event)

    assert [c.source.label for c in changes] == ["licensing.entitlement"]
    assert Change("State", "Active", "Suspended") in changes[0].changes


def test_the_history_page_shows_before_and_after_with_the_actor_and_reason(
    client, auditor, suspended, manager
):
    client.force_login(auditor)
    row = _latest(Entitlement, suspended.pk)

    body = client.get(f"/audit/history/licensing.entitlement/{row.history_id}/").content.decode()

    assert '<td class="before">Active</td><td class="after">Suspended</td>' in body
    assert manager.get_full_name() in body
    assert "Invoice overdue" in body
    assert "Suspended</a>" in body  # the event written with it, linked, by name


def test_the_event_page_shows_its_fields_and_the_change_it_made(client, auditor, suspended):
    client.force_login(auditor)
    event = AuditEvent.objects.get(action="entitlement.suspend")

    body = client.get(f"/audit/events/{event.seq}/").content.decode()

    assert "<h1>Suspended</h1>" in body
    assert f"Entitlement: {suspended.name}" in body
    assert event.hash in body
    assert '<td class="before">Active</td><td class="after">Suspended</td>' in body


@pytest.mark.parametrize(
    "path",
    ["/audit/events/999999/", "/audit/history/licensing.entitlement/999999/",
     "/audit/history/no.such/1/"],
)  # fmt: skip
def test_unknown_entries_answer_404(client, auditor, path):
    client.force_login(auditor)

    assert client.get(path).status_code == 404
