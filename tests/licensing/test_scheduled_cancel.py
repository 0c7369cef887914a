"""Calling off a scheduled change before it takes effect: one refusal rule, asked by the page
and enforced by the service; a change a credit was issued for is called off with the credit."""

from datetime import timedelta

import pytest
from django.urls import reverse

from audit.models import AuditEvent
from credits import services as credit_services
from licensing import services
from licensing.errors import DomainError
from licensing.models import ScheduledChange
from tests.factories import admin_actor
from tests.support import Snapshot, downgrade, paid_contract

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(customer_a, period):
    return paid_contract(customer_a, period=period)


def _scheduled(contract, today, days=5) -> ScheduledChange:
    """A seat change decided by staff, with no credit riding on it."""
    return services.change_schedule(
        actor=admin_actor(), kind="quantity", entitlement_id=contract.entitlements.get().pk,
        quantity_after=30, effective_date=today + timedelta(days=days), on=today,
        reason="Customer asked for fewer seats from next week",
    )  # fmt: skip


def test_a_manager_calls_off_a_change_before_its_date_and_nothing_changes_on_it(
    manager, contract, today
):
    change = _scheduled(contract, today)

    services.scheduled_change_cancel(actor=manager, change_id=change.pk,
                                     reason="Customer changed its mind", on=today)  # fmt: skip
    services.apply_due_changes(on=today + timedelta(days=5))

    change.refresh_from_db()
    assert change.state == ScheduledChange.State.CANCELLED
    assert change.outcome == "Customer changed its mind"
    assert contract.entitlements.get().quantity == 50
    event = AuditEvent.objects.get(action="scheduled_change.cancel")
    assert (event.actor, event.object_id, event.reason) == (
        manager, str(change.pk), "Customer changed its mind",
    )  # fmt: skip
    assert change.history.filter(state="cancelled", history_user=manager).exists()


@pytest.mark.parametrize(
    ("persona", "days", "refusal"),
    [
        ("auditor", 5, "Your role may not cancel scheduled changes."),
        ("analyst", 5, "Your role may not cancel scheduled changes."),
        ("manager", 0, "it is due now and can no longer be called off"),
    ],
    ids=["auditor", "finance analyst", "due today"],
    indirect=["persona"],
)
def test_a_change_is_not_called_off_by_whoever_may_not_or_once_it_is_due(
    persona, days, refusal, contract, today
):
    change = (
        _scheduled(contract, today, days=days)
        if days
        else ScheduledChange.objects.get(pk=_pending_due_today(contract, today).pk)
    )
    snapshot = Snapshot(change)

    asked = services.scheduled_change_cancel_refusal(actor=persona, change=change, on=today)
    with pytest.raises(DomainError) as refused:
        services.scheduled_change_cancel(actor=persona, change_id=change.pk, reason="No",
                                         on=today)  # fmt: skip

    assert refusal in asked and asked == str(refused.value)
    assert snapshot.unchanged(), snapshot.changes()


def _pending_due_today(contract, today) -> ScheduledChange:
    # Decided yesterday for today, and the beat job has not run yet this morning.
    change = _scheduled(contract, today - timedelta(days=1), days=1)
    assert change.state == ScheduledChange.State.PENDING
    return change


def test_an_applied_change_cannot_be_called_off(manager, contract, today):
    change = _scheduled(contract, today, days=5)
    services.apply_due_changes(on=today + timedelta(days=5))

    with pytest.raises(DomainError, match="applied already"):
        services.scheduled_change_cancel(actor=manager, change_id=change.pk, reason="Late",
                                         on=today + timedelta(days=6))  # fmt: skip


def test_a_change_an_issued_credit_was_given_for_is_not_called_off_alone(
    manager, analyst, contract, today
):
    credit = downgrade(manager, contract, 20, effective=today + timedelta(days=5)).credit
    credit = credit_services.credit_approve(actor=analyst, credit_id=credit.pk)
    part = ScheduledChange.objects.filter(source=f"credits.change:{credit.change_id}").first()

    refusal = services.scheduled_change_cancel_refusal(actor=manager, change=part, on=today)

    assert f"{credit.number} was issued for this change" in refusal
    assert "Uphold a dispute" in refusal
    with pytest.raises(DomainError):
        services.scheduled_change_cancel(actor=manager, change_id=part.pk, reason="No",
                                         on=today)  # fmt: skip
    part.refresh_from_db()
    assert part.state == ScheduledChange.State.PENDING


def test_the_contract_page_offers_the_call_off_with_a_confirmation(
    client, manager, contract, today
):
    change = _scheduled(contract, today)
    client.force_login(manager)

    page = client.get(reverse("licensing:contract", args=[contract.pk])).content.decode()

    url = reverse("licensing:scheduled-change-cancel", args=[change.pk])
    assert f'action="{url}"' in page
    assert f'data-confirm="Call off “{change.description}”' in page


def test_the_contract_page_calls_a_change_off(client, manager, contract, today):
    change = _scheduled(contract, today)
    client.force_login(manager)

    response = client.post(
        reverse("licensing:scheduled-change-cancel", args=[change.pk]),
        {"reason": "Customer changed its mind", "next": contract.get_absolute_url()},
        follow=True,
    )

    change.refresh_from_db()
    assert change.state == ScheduledChange.State.CANCELLED
    assert "Called off" in response.content.decode()
    assert response.redirect_chain[-1][0] == contract.get_absolute_url()


def test_an_auditor_sees_no_call_off_and_cannot_post_one(client, auditor, contract, today):
    change = _scheduled(contract, today)
    client.force_login(auditor)

    page = client.get(reverse("licensing:contract", args=[contract.pk])).content.decode()
    response = client.post(reverse("licensing:scheduled-change-cancel", args=[change.pk]),
                           {"reason": "No"})  # fmt: skip

    assert reverse("licensing:scheduled-change-cancel", args=[change.pk]) not in page
    assert response.status_code == 403
    change.refresh_from_db()
    assert change.state == ScheduledChange.State.PENDING


def test_a_call_off_without_a_reason_is_refused_with_a_message(client, manager, contract, today):
    change = _scheduled(contract, today)
    client.force_login(manager)

    response = client.post(
        reverse("licensing:scheduled-change-cancel", args=[change.pk]), {"reason": " "},
        HTTP_REFERER=contract.get_absolute_url(), follow=True,
    )  # fmt: skip

    assert "Give a reason" in response.content.decode()
    change.refresh_from_db()
    assert change.state == ScheduledChange.State.PENDING
