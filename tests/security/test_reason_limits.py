"""One reason limit, REASON_MAX_LENGTH, held by forms, serializers and the database alike.

On PostgreSQL a reason longer than a column once answered 500 (history's varchar(100)); SQLite
ignores lengths, so these run on PostgreSQL.
"""

from datetime import timedelta

import pytest
from django.urls import reverse

from audit.limits import REASON_MAX_LENGTH
from licensing.models import Contract, Entitlement
from tests.factories import ContractFactory, EntitlementFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

JUST_UNDER = "r" * (REASON_MAX_LENGTH - 1)
JUST_OVER = "r" * (REASON_MAX_LENGTH + 1)


def test_the_limit_is_two_thousand_characters():
    assert REASON_MAX_LENGTH == 2000


def test_an_api_reason_just_under_the_limit_is_recorded_in_history(api, manager):
    entitlement = EntitlementFactory()

    response = api(manager).post(
        f"/api/v1/entitlements/{entitlement.pk}/suspend/",
        {"reason": JUST_UNDER, "version": entitlement.version},
        format="json",
    )

    assert response.status_code == 200
    assert entitlement.history.latest().history_change_reason == JUST_UNDER


def test_an_api_reason_over_the_limit_is_a_400_naming_reason(api, manager):
    contract = ContractFactory()

    response = api(manager).post(
        f"/api/v1/contracts/{contract.pk}/suspend/", {"reason": JUST_OVER}, format="json"
    )

    assert response.status_code == 400
    assert "reason" in response.json()
    assert Contract.objects.get(pk=contract.pk).status == Contract.Status.ACTIVE


def test_a_page_reason_just_under_the_limit_is_recorded(client, manager):
    entitlement = EntitlementFactory()
    client.force_login(manager)

    response = client.post(
        reverse("licensing:entitlement-transition", args=[entitlement.pk]),
        {"transition": "suspend", "reason": JUST_UNDER, "version": entitlement.version},
    )

    assert response.status_code == 302
    assert entitlement.history.latest().history_change_reason == JUST_UNDER


def test_a_page_reason_over_the_limit_is_a_form_error(client, manager):
    entitlement = EntitlementFactory()
    client.force_login(manager)

    response = client.post(
        reverse("licensing:entitlement-transition", args=[entitlement.pk]),
        {"transition": "suspend", "reason": JUST_OVER, "version": entitlement.version},
    )

    assert response.status_code == 400
    assert "at most 2000 characters" in response.content.decode()
    assert Entitlement.objects.get(pk=entitlement.pk).state == Entitlement.State.ACTIVE


def test_a_service_refuses_a_reason_over_the_limit_that_no_form_bounded(manager, customer_a, today):
    # Some pages pass the posted reason straight on (calling off a scheduled change, dropping a
    # breach option): the services' one reason check holds the limit for them.
    from licensing import services
    from licensing.errors import DomainError
    from licensing.models import ScheduledChange
    from tests.factories import admin_actor
    from tests.support import paid_contract

    contract = paid_contract(customer_a)
    change = services.change_schedule(
        actor=admin_actor(), kind="quantity", entitlement_id=contract.entitlements.get().pk,
        quantity_after=30, effective_date=today + timedelta(days=5), on=today,
        reason="Fewer seats from next week",
    )  # fmt: skip

    with pytest.raises(DomainError) as refused:
        services.scheduled_change_cancel(actor=manager, change_id=change.pk, reason=JUST_OVER,
                                         on=today)  # fmt: skip

    assert refused.value.field == "reason" and "2,000 characters" in str(refused.value)
    assert ScheduledChange.objects.get(pk=change.pk).state == ScheduledChange.State.PENDING
