"""The customer's context beside a classification: tenure, earlier cases, payment record."""

from datetime import date, timedelta

import pytest

from breaches.models import BreachCase
from breaches.selectors import customer_context
from licensing import services as licensing_services
from tests.breaches.support import march_case, march_contract, move
from tests.factories import admin_actor

pytestmark = pytest.mark.django_db


def test_tenure_counts_from_the_first_contracts_start(manager, customer_a):
    case = march_case(manager, customer_a)  # the contract's term starts on 1 January 2026

    context = customer_context(customer=customer_a, on=date(2027, 4, 1), case=case)

    assert context.customer_since == date(2026, 1, 1)
    assert context.tenure_text == "Customer since 1 January 2026 (1 year 3 months)."


def test_earlier_cases_are_the_customers_other_cases_opened_before(manager, customer_a):
    first = march_case(manager, customer_a)
    first = move(manager, first, "review", "dismiss")
    BreachCase.objects.filter(pk=first.pk).update(classification="willful")
    second = march_case(manager, customer_a, start=date(2026, 3, 20))

    context = customer_context(customer=customer_a, on=date(2026, 3, 25), case=second)

    assert [c.pk for c in context.earlier_cases] == [first.pk]
    assert context.earlier_willful == 1


def test_the_payment_record_tells_on_time_late_and_unpaid_invoices(manager, customer_a):
    contract = march_contract(customer_a)  # March: paid four days after issue
    line = contract.lines.get()
    for number, start, paid in (("INV-LATE", date(2026, 4, 1), date(2026, 5, 20)),
                                ("INV-OPEN", date(2026, 5, 1), None)):  # fmt: skip
        licensing_services.invoice_record(
            actor=admin_actor(), contract=contract, number=number, period_start=start,
            period_end=start + timedelta(days=30), lines=[(line, 50, line.period_amount)],
            issued_on=start, paid_on=paid,
        )  # fmt: skip

    payments = customer_context(customer=customer_a, on=date(2026, 7, 1)).payments

    assert (payments.invoices, payments.paid_on_time, payments.paid_late, payments.unpaid,
            payments.overdue) == (3, 1, 1, 1, 1)  # fmt: skip
    assert payments.text == "1 of 3 invoices paid on time, 1 late, 1 unpaid (1 overdue)."
