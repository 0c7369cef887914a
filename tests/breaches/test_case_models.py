"""The case models' own promises: policy v1 installed, one open case per entitlement,
an immutable communications log."""

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from breaches.models import BreachCase, Communication
from breaches.policy import breach_policy, breach_rules

pytestmark = pytest.mark.django_db


def _case(entitlement, **fields) -> BreachCase:
    return BreachCase.objects.create(
        entitlement=entitlement, policy=breach_policy(timezone.localdate()),
        metric="seats_in_use", detected_on=timezone.localdate(), **fields,
    )  # fmt: skip


def test_breach_policy_v1_is_in_force_with_the_issues_defaults(today):
    rules = breach_rules(breach_policy(today))

    assert (rules.tolerance, rules.consecutive_days, rules.warning_thresholds) == (
        Decimal("1.0"), 3, (80, 100),
    )  # fmt: skip
    assert rules.for_classification("inadvertent").grace_days > (
        rules.for_classification("willful").grace_days
    )


def test_a_second_open_case_for_one_entitlement_is_refused_by_the_database(seats):
    _case(seats, state=BreachCase.State.ESCALATED)

    with pytest.raises(IntegrityError), transaction.atomic():
        _case(seats)


def test_a_closed_case_does_not_block_a_new_one(seats):
    _case(seats, state=BreachCase.State.DISMISSED)

    assert _case(seats).state == BreachCase.State.DETECTED


def test_a_logged_communication_cannot_be_changed(seats, manager):
    entry = Communication.objects.create(
        case=_case(seats), kind="call", subject="Call", body="Said hello",
        occurred_at=timezone.now(), logged_by=manager,
    )  # fmt: skip
    entry.body = "Said something else"

    with pytest.raises(ValueError, match="immutable"):
        entry.save()
    assert Communication.objects.get().body == "Said hello"


def test_a_logged_attachment_cannot_be_changed(seats, manager):
    from breaches.models import CommunicationAttachment

    entry = Communication.objects.create(
        case=_case(seats), kind="call", subject="Call", body="Notes attached",
        occurred_at=timezone.now(), logged_by=manager,
    )  # fmt: skip
    attachment = CommunicationAttachment.objects.create(
        communication=entry, filename="a.txt", content_type="text/plain", content=b"a", size=1,
        sha256="x" * 64,
    )  # fmt: skip
    attachment.filename = "b.txt"

    with pytest.raises(ValueError, match="immutable"):
        attachment.save()
