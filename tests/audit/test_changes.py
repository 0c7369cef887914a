"""Before and after: each timeline entry opens the fields it changed, named and readable."""

from datetime import timedelta

import pytest

from audit.changes import Change, event_changes, history_entry, history_event
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


@pytest.mark.django_db(transaction=True)
def test_a_change_a_moment_before_in_another_transaction_is_not_the_events(
    customer_a, manager, pinned_clock
):
    # Given a seat count changed with no event of its own (a save that writes history only),
    # in its own transaction, one second before the suspension
    contract = paid_contract(customer_a)
    seats = Entitlement.objects.get(contract=contract)
    pinned_clock.shift(timedelta(minutes=10))
    seats.quantity = 49
    seats.save()
    pinned_clock.shift(timedelta(seconds=1))
    entitlement_transition(
        actor=manager, entitlement_id=seats.pk, transition="suspend", reason="Invoice overdue"
    )
    event = AuditEvent.objects.get(action="entitlement.suspend")
    quiet = Entitlement.history.get(id=seats.pk, quantity=49, state="active")

    # When the suspension and the quiet change are opened
    changes = event_changes(event)
    quiet_event = history_event(history_entry("licensing.entitlement", quiet.history_id))

    # Then each keeps to its own transaction
    assert [row.history_transaction_id for row in (c.row for c in changes)] == [
        event.transaction_id
    ]
    assert Change("State", "Active", "Suspended") in changes[0].changes
    assert all(c.label != "Quantity" for c in changes[0].changes)
    assert quiet.history_transaction_id != event.transaction_id
    assert quiet_event is None


def test_an_event_and_its_history_rows_record_the_same_transaction(suspended):
    event = AuditEvent.objects.get(action="entitlement.suspend")
    row = _latest(Entitlement, suspended.pk)

    assert event.transaction_id is not None
    assert row.history_transaction_id == event.transaction_id
    assert history_event(history_entry("licensing.entitlement", row.history_id)) == event


def test_rows_from_before_transaction_ids_are_paired_by_time(suspended):
    # Given an event and its history row as the migration left them: no transaction id
    event = AuditEvent.objects.get(action="entitlement.suspend")
    AuditEvent.objects.all().update(transaction_id=None)
    Entitlement.history.all().update(history_transaction_id=None)
    event.refresh_from_db()
    row = _latest(Entitlement, suspended.pk)

    # Then they still find each other, by time
    assert [c.row.history_id for c in event_changes(event)] == [row.history_id]
    assert history_event(history_entry("licensing.entitlement", row.history_id)) == event


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
