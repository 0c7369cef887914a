"""Usage warnings: the first day a figure reaches a threshold tells the customer's contacts and
the account manager once, by e-mail, and raises a portal banner."""

from datetime import timedelta

import pytest

from audit.models import AuditEvent
from breaches.models import UsageWarning
from breaches.selectors import has_usage_warning, usage_warning_banners
from breaches.services.warnings import usage_warning_dismiss, usage_warnings_raise
from licensing.errors import ActionForbidden
from licensing.roles import Role
from outbox.models import Mail
from tests.breaches.support import days_from, report_usage
from tests.factories import ContractFactory, EntitlementFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def watched(customer_a, customer_user):
    """50 seats on a contract with an account manager; the customer has a billing address."""
    customer_a.billing_email = "billing@northwind.test"
    customer_a.save()
    customer_user.email = "nina@northwind.test"
    customer_user.save()
    am = UserFactory(username="amir", email="amir@licensedesk.test", role=Role.ACCOUNT_MANAGER)
    contract = ContractFactory(customer=customer_a, account_manager=am)
    return EntitlementFactory(contract=contract, quantity=50)


def test_the_first_day_reaching_80_percent_warns_once_by_mail(manager, watched, today):
    start = today - timedelta(days=6)
    report_usage(manager, watched, days_from(start, 30, 40, 41, 45))

    created = usage_warnings_raise(on=today, entitlement_ids=[watched.pk])

    assert [(w.threshold, w.day, w.figure) for w in created] == [(80, start + timedelta(1), 40)]
    mail = Mail.objects.get(kind="breach.warning.80")
    assert mail.recipients == sorted(
        ["amir@licensedesk.test", "billing@northwind.test", "nina@northwind.test"]
    )
    assert "40 seats in use" in mail.body and "50 seats" in mail.body
    assert AuditEvent.objects.filter(action="usage_warning.raise").count() == 1
    assert UsageWarning.history.count() >= 1


def test_a_threshold_warned_of_is_never_warned_of_again(manager, watched, today):
    start = today - timedelta(days=6)
    report_usage(manager, watched, days_from(start, 41))
    usage_warnings_raise(on=today, entitlement_ids=[watched.pk])
    report_usage(manager, watched, days_from(start + timedelta(days=1), 42, 43))

    assert usage_warnings_raise(on=today) == []
    assert Mail.objects.filter(kind="breach.warning.80").count() == 1


def test_reaching_100_percent_warns_of_both_thresholds(manager, watched, today):
    report_usage(manager, watched, days_from(today - timedelta(days=2), 50))

    usage_warnings_raise(on=today)

    assert sorted(UsageWarning.objects.values_list("threshold", flat=True)) == [80, 100]


def test_usage_below_every_threshold_warns_nobody(manager, watched, today):
    report_usage(manager, watched, days_from(today - timedelta(days=3), 39, 39))

    assert usage_warnings_raise(on=today) == []
    assert not Mail.objects.filter(kind__startswith="breach.warning").exists()


def test_a_usage_report_raises_its_warnings_once_it_commits(
    manager, watched, today, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report_usage(manager, watched, days_from(today - timedelta(days=2), 45))

    assert UsageWarning.objects.get().threshold == 80


def test_the_portal_banner_shows_the_customers_warnings_until_put_away(
    manager, watched, customer_a, customer_b, customer_user, today
):
    report_usage(manager, watched, days_from(today - timedelta(days=2), 45))
    usage_warnings_raise(on=today)
    warning = UsageWarning.objects.get()

    assert list(usage_warning_banners(customer=customer_a, on=today)) == [warning]
    assert not has_usage_warning(customer=customer_b, on=today)
    usage_warning_dismiss(actor=customer_user, warning_id=warning.pk)
    assert not has_usage_warning(customer=customer_a, on=today)
    assert AuditEvent.objects.filter(action="usage_warning.dismiss").count() == 1


def test_another_customer_cannot_put_a_banner_away(manager, watched, other_customer_user, today):
    report_usage(manager, watched, days_from(today - timedelta(days=2), 45))
    (warning,) = usage_warnings_raise(on=today)

    with pytest.raises(ActionForbidden):
        usage_warning_dismiss(actor=other_customer_user, warning_id=warning.pk)
    warning.refresh_from_db()
    assert warning.dismissed_at is None


def test_customers_list_their_own_warnings_and_put_one_away_through_the_api(
    api, manager, watched, customer_user, other_customer_user, today
):
    report_usage(manager, watched, days_from(today - timedelta(days=2), 45))
    (warning,) = usage_warnings_raise(on=today)

    own = api(customer_user).get("/api/v1/usage-warnings/").json()["results"]
    others = api(other_customer_user).get("/api/v1/usage-warnings/").json()["results"]
    refused = api(other_customer_user).post(f"/api/v1/usage-warnings/{warning.pk}/dismiss/")
    dismissed = api(customer_user).post(f"/api/v1/usage-warnings/{warning.pk}/dismiss/")

    assert [w["threshold"] for w in own] == [80] and others == []
    assert refused.status_code == 404
    assert dismissed.status_code == 200 and dismissed.json()["dismissed"] is True


def _warn_queries(manager, customer_a, today, entitlements: int, days: int) -> tuple[int, int]:
    """(queries, warnings) of one run over `entitlements` new entitlements, each with `days`
    figures reaching both thresholds."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    watched = [
        EntitlementFactory(contract=ContractFactory(customer=customer_a), quantity=10)
        for _ in range(entitlements)
    ]
    for entitlement in watched:
        report_usage(manager, entitlement, days_from(today - timedelta(days=days), *[10] * days))
    with CaptureQueriesContext(connection) as queries:
        created = usage_warnings_raise(on=today, entitlement_ids=[e.pk for e in watched])
    return len(queries), len(created)


def test_the_warnings_job_asks_as_many_queries_for_many_figures_and_warnings_as_for_few(
    manager, customer_a, today
):
    usage_warnings_raise(on=today, entitlement_ids=[])  # the system account exists from here
    few = _warn_queries(manager, customer_a, today, entitlements=1, days=2)
    many = _warn_queries(manager, customer_a, today, entitlements=4, days=12)

    assert (few[1], many[1]) == (2, 8)  # 80% and 100% for each entitlement
    assert many[0] == few[0]
