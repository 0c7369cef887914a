"""The customer statement (finance page, portal page, API) and the portal's invoices."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from credits.statements import customer_statement
from licensing import services as licensing_services
from tests.factories import admin_actor

STATEMENT_API = "/api/v1/customers/{}/statement/"


def record_invoice(contract, number, *, amount="300.00", paid_on=None, start=date(2026, 12, 1)):
    line = contract.lines.get()
    return licensing_services.invoice_record(
        actor=admin_actor(), contract=contract, number=number, period_start=start,
        period_end=date(start.year + start.month // 12, start.month % 12 + 1, 1),
        lines=[(line, line.quantity, Decimal(amount))], issued_on=start, paid_on=paid_on,
    )  # fmt: skip


@pytest.fixture
def account(paid_contract, request_credit, analyst, customer_a):
    """Customer A: a paid November invoice (USD 300.00), an unpaid December one (USD 300.00)
    and an issued credit note of USD 90.00."""
    contract = paid_contract()
    from credits import services as credit_services

    credit = request_credit(contract)
    credit_services.credit_approve(actor=analyst, credit_id=credit.pk, reason="Checked")
    record_invoice(contract, "INV-DEC-1")
    return contract


def test_statement_totals(account, customer_a, today):
    statement = customer_statement(customer=customer_a, on=today)
    [totals] = statement.totals
    assert totals.currency == "USD"
    assert totals.invoiced == Decimal("600.00")
    assert totals.paid == Decimal("300.00")
    assert totals.credit_notes == Decimal("90.00")
    assert totals.balance == Decimal("210.00")
    assert [row.invoice.number for row in statement.invoices][0] == "INV-DEC-1"
    assert [row.credit.number for row in statement.credit_notes] == [
        statement.credit_notes[0].credit.number
    ]
    assert statement.discounts == [] and statement.deferrals == []


def test_statement_api_staff_reads_any_customer(api, account, customer_a, auditor):
    response = api(auditor).get(STATEMENT_API.format(customer_a.pk))
    assert response.status_code == 200
    body = response.json()
    assert body["customer_name"] == customer_a.name
    assert body["totals"] == [{
        "currency": "USD", "invoiced": "600.00", "paid": "300.00", "credit_notes": "90.00",
        "balance": "210.00", "discount_remaining": "0.00", "deferral_remaining": "0.00",
    }]  # fmt: skip
    assert {row["total"] for row in body["invoices"]} == {"300.00"}
    assert all(row["currency"] == "USD" for row in body["invoices"])
    [note] = body["credit_notes"]
    assert note["amount"] == "90.00" and note["currency"] == "USD"
    assert note["pdf"].endswith(reverse("credits:credit-note", args=[note["credit"]]))
    assert body["invoices"][0]["pdf"].endswith(
        reverse("credits:invoice-pdf", args=[body["invoices"][0]["id"]])
    )


def test_statement_api_customer_reads_own_and_not_another(
    api, account, customer_a, customer_b, customer_user, other_customer_user
):
    own = api(customer_user).get(STATEMENT_API.format(customer_a.pk))
    assert own.status_code == 200
    assert own.json()["credit_notes"][0]["pdf"].endswith(
        reverse("credits_portal:credit-note", args=[own.json()["credit_notes"][0]["credit"]])
    )
    assert api(other_customer_user).get(STATEMENT_API.format(customer_a.pk)).status_code == 404
    assert api(customer_user).get(STATEMENT_API.format(customer_b.pk)).status_code == 404
    assert api(None).get(STATEMENT_API.format(customer_a.pk)).status_code in (401, 403)


def test_finance_statement_page(client, account, customer_a, analyst):
    client.force_login(analyst)
    chooser = client.get(reverse("credits:statement"))
    assert customer_a.name in chooser.content.decode()
    page = client.get(reverse("credits:statement") + f"?customer={customer_a.pk}")
    html = page.content.decode()
    assert page.status_code == 200
    assert f"Statement of {customer_a.name}" in html
    assert "INV-DEC-1" in html and "USD 210.00" in html and "USD 90.00" in html
    assert "1 Dec 2026" in html


def test_finance_statement_is_staff_only(client, account, customer_a, customer_user):
    client.force_login(customer_user)
    response = client.get(reverse("credits:statement") + f"?customer={customer_a.pk}")
    assert response.status_code == 403


def test_portal_statement_and_invoices(client, account, customer_user, other_customer_user):
    client.force_login(customer_user)
    statement = client.get(reverse("credits_portal:statement")).content.decode()
    assert "Your statement" in statement and "USD 210.00" in statement
    invoices = client.get(reverse("credits_portal:invoices")).content.decode()
    assert "INV-DEC-1" in invoices and "Unpaid" in invoices and "Paid" in invoices
    client.force_login(other_customer_user)
    assert "INV-DEC-1" not in client.get(reverse("credits_portal:invoices")).content.decode()


def test_invoice_pdf_for_its_customer_only(client, account, customer_user, other_customer_user):
    invoice = account.invoices.get(number="INV-DEC-1")
    client.force_login(customer_user)
    response = client.get(reverse("credits_portal:invoice-pdf", args=[invoice.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    client.force_login(other_customer_user)
    assert client.get(reverse("credits_portal:invoice-pdf", args=[invoice.pk])).status_code == 404


def test_navigation_offers_the_statement(client, customer_user, analyst):
    client.force_login(customer_user)
    html = client.get(reverse("credits_portal:invoices")).content.decode()
    assert reverse("credits_portal:statement") in html
    client.force_login(analyst)
    html = client.get(reverse("credits:statement")).content.decode()
    assert 'href="' + reverse("credits:statement") + '"' in html
