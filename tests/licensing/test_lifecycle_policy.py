"""Lifecycle policy v2: v1's summary promised a 30-day default grace that nothing applies."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps

from licensing.models import LedgerEntry, PolicyVersion
from licensing.selectors import policy_in_force
from licensing.services import entitlement_transition
from tests.factories import ContractFactory, EntitlementFactory

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("licensing.migrations.0016_lifecycle_policy_v2")


def lifecycle(number: int) -> PolicyVersion:
    return PolicyVersion.objects.get(kind="lifecycle", number=number)


def test_a_fresh_install_is_under_lifecycle_v2_whose_summary_promises_no_default_grace(today):
    v2 = policy_in_force(kind="lifecycle", on=today)

    assert (v2.label, v2.status) == ("lifecycle/v2", "published")
    assert "30 days where it names none" not in v2.summary
    assert "a contract that grants none gives no grace" in v2.summary
    assert v2.summary.split("\n\n")[-1].startswith("Changed from v1:")
    assert "default_grace_days" not in v2.rules


def test_lifecycle_v1_is_kept_as_it_was_published():
    v1 = lifecycle(1)

    assert v1.status == "published" and v1.rules["default_grace_days"] == 30
    assert "or 30 days where it names none" in v1.summary


def test_the_migration_publishes_v2_from_today_and_records_made_under_v1_keep_it(manager, today):
    # An install from before v2: only v1 exists, and a change was recorded under it.
    lifecycle(2).delete()
    entitlement = EntitlementFactory(contract=ContractFactory(grace_days=0))
    before = LedgerEntry.objects.filter(entitlement=entitlement).latest("id")
    assert before.policy_version == "lifecycle/v1"

    MIGRATION.publish_v2(apps, None)
    MIGRATION.publish_v2(apps, None)  # safe to run twice

    v2 = lifecycle(2)
    assert (v2.effective_from, v2.status) == (today, "published")
    assert PolicyVersion.objects.filter(kind="lifecycle").count() == 2
    assert policy_in_force(kind="lifecycle", on=today - timedelta(days=1)).label == "lifecycle/v1"
    entitlement_transition(
        actor=manager, entitlement_id=entitlement.pk, transition="suspend", reason="Unpaid",
        effective_date=today,
    )  # fmt: skip
    after = LedgerEntry.objects.filter(entitlement=entitlement).latest("id")
    assert after.policy_version == "lifecycle/v2"
    before.refresh_from_db()
    assert before.policy_version == "lifecycle/v1"
