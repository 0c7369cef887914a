"""The governance dashboard: panels registered by the apps, figures without names, a CSV."""

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from credits.services import credit_approve, credit_reject
from tests.support import paid_contract, requested_credit

pytestmark = pytest.mark.django_db

PAGE = "/audit/governance/"
EXPORT = "/audit/governance/export.csv"


def _csv(client) -> list[dict]:
    body = b"".join(client.get(EXPORT).streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def _value(rows, table: str, row: str, column: str) -> str:
    [found] = [r for r in rows if (r["table"], r["row"], r["column"]) == (table, row, column)]
    return found["value"]


def test_credits_requested_issued_and_rejected_are_counted_with_their_amounts(
    client, auditor, manager, analyst, customer_a, customer_b
):
    kept = requested_credit(manager, paid_contract(customer_a))
    refused = requested_credit(manager, paid_contract(customer_b))
    credit_reject(actor=analyst, credit_id=refused.pk, reason="Not owed")
    client.force_login(auditor)

    rows = _csv(client)

    table = "Credits by outcome"
    assert _value(rows, table, "Requested (USD)", "Credits") == "2"
    assert _value(rows, table, "Requested (USD)", "Amount") == str(kept.amount + refused.amount)
    assert _value(rows, table, "Rejected (USD)", "Credits") == "1"
    assert _value(rows, table, "Rejected (USD)", "Amount") == str(refused.amount)
    assert _value(rows, table, "Issued (USD)", "Credits") == "0"


def test_approval_time_is_reported_per_step(client, auditor, manager, analyst, customer_a,
                                            pinned_clock):  # fmt: skip
    credit = requested_credit(manager, paid_contract(customer_a))
    pinned_clock.shift(3 * 3600)
    credit_approve(actor=analyst, credit_id=credit.pk)
    client.force_login(auditor)

    rows = _csv(client)

    [step] = [
        r for r in rows if r["table"] == "Approval time per step" and r["column"] == "Decided"
    ]
    assert step["row"].startswith("Step 1") and step["value"] == "1"
    median = _value(rows, "Approval time per step", step["row"], "Median hours")
    assert median.startswith("3.")


def test_the_export_names_no_customer_and_no_person(client, auditor, manager, analyst, customer_a):
    credit = requested_credit(manager, paid_contract(customer_a))
    credit_approve(actor=analyst, credit_id=credit.pk)
    client.force_login(auditor)

    body = b"".join(client.get(EXPORT).streaming_content).decode()

    assert "Credits by outcome" in body
    for name in (customer_a.name, customer_a.code, manager.username, analyst.username,
                 manager.last_name, analyst.last_name, credit.contract.number):  # fmt: skip
        assert name not in body


def test_the_page_draws_every_registered_panel_with_charts_under_the_csp(client, auditor):
    client.force_login(auditor)

    page = client.get(PAGE).text

    for title in (
        "Credits",
        "Deprovisioning",
        "Time to revoke",
        "Drift at connected systems",
        "Breach cases",
    ):
        assert title in page
    assert 'data-chart="chart-0-0"' in page and 'id="chart-0-0"' in page
    assert "vendor/chartjs/chart.umd.min.js" in page and "<script>" not in page
    assert reverse("audit:governance-export") in page


def test_the_audit_app_names_no_consumer_of_its_dashboard():
    source = (Path(settings.BASE_DIR) / "audit").rglob("*.py")
    text = "\n".join(path.read_text() for path in source if "migrations" not in path.parts)

    for consumer in ("import credits", "from credits", "from licensing", "import licensing",
                     "from breaches"):  # fmt: skip
        assert consumer not in text


def test_breach_cases_are_shown_by_state_and_age(client, auditor, today):
    from tests.breaches.cases import opened_case
    from tests.factories import EntitlementFactory

    opened_case(EntitlementFactory(), detected_on=today - timedelta(days=3))
    opened_case(EntitlementFactory(), detected_on=today - timedelta(days=45), state="confirmed")
    client.force_login(auditor)

    rows = _csv(client)

    table = "Open cases by age"
    assert _value(rows, table, "Detected", "Up to 7 days") == "1"
    assert _value(rows, table, "Confirmed", "31 to 90 days") == "1"
    assert _value(rows, table, "Confirmed", "Up to 7 days") == "0"
    assert _value(rows, "Cases detected in the period, by state now", "Detected", "Cases") == "1"
