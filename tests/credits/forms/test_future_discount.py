"""A discount on future invoices: the contract's next invoices carry a discount line until the
amount is used up, and the statement shows what is left."""

from datetime import date
from decimal import Decimal

import pytest

from credits import services as credit_services
from credits.models import InvoiceAdjustment
from credits.statements import customer_statement
from licensing import services as licensing_services
from tests.factories import admin_actor


def next_invoice(contract, number, amount, start):
    line = contract.lines.get()
    end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return licensing_services.invoice_record(
        actor=admin_actor(), contract=contract, number=number, period_start=start,
        period_end=end, lines=[(line, line.quantity, Decimal(amount))], issued_on=start,
    )  # fmt: skip


@pytest.fixture
def discount(paid_contract, request_credit, analyst):
    """USD 90.00 to come off the contract's next invoices."""
    credit = request_credit(paid_contract(), form="future_discount")
    return credit_services.credit_approve(actor=analyst, credit_id=credit.pk, reason="Checked")


def test_the_next_invoice_carries_the_discount(discount):
    assert discount.amount == Decimal("90.00")
    invoice = next_invoice(discount.contract, "INV-DEC", "120.00", date(2026, 12, 1))
    [line] = invoice.credit_adjustments.all()
    assert (line.credit, line.kind, line.amount) == (discount, "discount", Decimal("90.00"))
    assert credit_services.credit_remaining(discount) == 0
    # Used up: the invoice after carries nothing.
    later = next_invoice(discount.contract, "INV-JAN", "120.00", date(2027, 1, 1))
    assert not later.credit_adjustments.exists()


def test_a_small_invoice_leaves_the_rest_for_the_next(discount, customer_a, today):
    first = next_invoice(discount.contract, "INV-DEC", "50.00", date(2026, 12, 1))
    assert first.credit_adjustments.get().amount == Decimal("50.00")
    statement = customer_statement(customer=customer_a, on=today)
    [row] = statement.discounts
    assert (row.amount, row.used, row.remaining) == (
        Decimal("90.00"), Decimal("50.00"), Decimal("40.00"),
    )  # fmt: skip
    assert statement.totals[0].discount_remaining == Decimal("40.00")
    assert [r.total for r in statement.invoices if r.invoice == first] == [Decimal("0.00")]

    second = next_invoice(discount.contract, "INV-JAN", "300.00", date(2027, 1, 1))
    assert second.credit_adjustments.get().amount == Decimal("40.00")
    assert credit_services.credit_remaining(discount) == 0


def test_applying_twice_changes_nothing(discount):
    invoice = next_invoice(discount.contract, "INV-DEC", "300.00", date(2026, 12, 1))
    assert credit_services.invoice_adjustments_apply(actor=admin_actor(), invoice=invoice) == []
    assert InvoiceAdjustment.objects.filter(invoice=invoice).count() == 1


def test_another_contracts_invoice_is_not_discounted(discount, paid_contract):
    other = paid_contract()
    invoice = next_invoice(other, "INV-OTHER", "300.00", date(2026, 12, 1))
    assert not invoice.credit_adjustments.exists()
    assert credit_services.credit_remaining(discount) == Decimal("90.00")
