"""The snapshot every "refused and wrote nothing" test leans on: it must see each kind of write."""

import pytest
from django.utils import timezone

from audit.models import MerkleNode
from licensing.models import Customer
from tests.factories import CustomerFactory
from tests.support import Snapshot

pytestmark = pytest.mark.django_db


def test_an_untouched_database_is_unchanged(customer_a):
    assert Snapshot().unchanged()


def test_a_changed_row_an_added_row_and_a_deleted_row_each_show(customer_a, customer_b):
    for write in (
        lambda: Customer.objects.filter(pk=customer_a.pk).update(name="Northwind Ltd"),
        lambda: CustomerFactory(name="Initech", code="initech"),
        lambda: Customer.objects.filter(pk=customer_b.pk).delete(),
    ):
        snapshot = Snapshot()
        write()
        assert not snapshot.unchanged()
        assert "licensing.Customer" in snapshot.changes()


def test_a_many_to_many_link_and_a_composite_key_table_show(manager):
    from django.contrib.auth.models import Group

    snapshot = Snapshot()
    manager.groups.add(Group.objects.create(name="Extra"))
    assert not snapshot.unchanged()

    snapshot = Snapshot()
    MerkleNode.objects.create(level=0, index=10**12, hash=b"\0" * 32)
    assert not snapshot.unchanged()


def test_signing_in_is_not_a_change(manager):
    snapshot = Snapshot()
    manager.last_login = timezone.now()
    manager.save(update_fields=["last_login"])
    assert snapshot.unchanged()


def test_a_named_object_is_read_afresh(customer_a):
    snapshot = Snapshot(customer_a)
    Customer.objects.filter(pk=customer_a.pk).update(name="Northwind Ltd")
    assert f"licensing.Customer:{customer_a.pk}" in snapshot.changes()
