"""The customer statement: one read of a customer's account for the finance page, the portal and
the API, so the three always agree.

Money is Decimal and every amount travels with its currency; totals are kept per currency, never
added across currencies. The balance is what the customer owes: unpaid invoices less the credit
notes posted to the account (a positive balance is owed by the customer, a negative one is owed
to them). Discounts and deferrals are not money owed today: they come off later invoices, so the
statement shows what is left of each beside the balance.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Prefetch, Sum

from licensing.models import Customer, Invoice, InvoiceLine
from licensing.money import round_money

from .models import AccountEntry, Credit, InvoiceAdjustment


@dataclass(frozen=True)
class StatementInvoice:
    """An invoice with what it billed, what credits took off it (discount and deferral lines)
    and what is left to pay."""

    invoice: Invoice
    subtotal: Decimal
    taken_off: Decimal
    total: Decimal
    currency: str
    # Paid by the statement's date: a payment recorded for a later day is not paid yet.
    paid: bool = False


@dataclass(frozen=True)
class StatementEntry:
    """A credit posted to the account: a credit note, a discount or a deferral."""

    entry: AccountEntry
    credit: Credit
    amount: Decimal
    currency: str
    used: Decimal
    remaining: Decimal


@dataclass
class CurrencyTotals:
    currency: str
    invoiced: Decimal = Decimal(0)
    paid: Decimal = Decimal(0)
    credit_notes: Decimal = Decimal(0)
    discount_remaining: Decimal = Decimal(0)
    deferral_remaining: Decimal = Decimal(0)

    @property
    def balance(self) -> Decimal:
        return self.invoiced - self.paid - self.credit_notes


@dataclass
class Statement:
    customer: Customer
    on: date
    invoices: list[StatementInvoice] = field(default_factory=list)
    credit_notes: list[StatementEntry] = field(default_factory=list)
    discounts: list[StatementEntry] = field(default_factory=list)
    deferrals: list[StatementEntry] = field(default_factory=list)
    totals: list[CurrencyTotals] = field(default_factory=list)


def customer_invoices(*, customer: Customer, on: date) -> list[StatementInvoice]:
    """The customer's invoices, newest first, each with its total in its currency and whether
    it is paid on `on`."""
    invoices = (
        Invoice.objects.filter(contract__customer=customer)
        .select_related("contract")
        .prefetch_related(
            Prefetch("lines", queryset=InvoiceLine.objects.select_related("contract_line__plan"))
        )
        .annotate(lines_total=Sum("lines__amount"))
        .order_by("-issued_on", "-pk")
    )
    taken = dict(
        InvoiceAdjustment.objects.filter(invoice__contract__customer=customer)
        .values("invoice_id")
        .annotate(total=Sum("amount"))
        .values_list("invoice_id", "total")
    )
    rows = []
    for invoice in invoices:
        subtotal = round_money(invoice.lines_total or Decimal(0), invoice.currency)
        off = round_money(taken.get(invoice.pk, Decimal(0)), invoice.currency)
        paid = invoice.paid_on is not None and invoice.paid_on <= on
        rows.append(StatementInvoice(invoice=invoice, subtotal=subtotal, taken_off=off,
                                     total=subtotal - off, currency=invoice.currency,
                                     paid=paid))  # fmt: skip
    return rows


def customer_statement(*, customer: Customer, on: date) -> Statement:
    statement = Statement(customer=customer, on=on)
    statement.invoices = customer_invoices(customer=customer, on=on)
    totals: dict[str, CurrencyTotals] = {}

    def of(currency: str) -> CurrencyTotals:
        return totals.setdefault(currency, CurrencyTotals(currency))

    for row in statement.invoices:
        of(row.currency).invoiced += row.total
        if row.paid:
            of(row.currency).paid += row.total
    used = _used_by_credit(customer)
    entries = (
        AccountEntry.objects.filter(customer=customer, credit__status=Credit.Status.ISSUED)
        .select_related("credit__contract")
        .order_by("-posted_at", "-pk")
    )
    for entry in entries:
        amount = round_money(entry.amount, entry.currency)
        spent = min(used.get(entry.credit_id, Decimal(0)), amount)
        row = StatementEntry(
            entry=entry, credit=entry.credit, amount=amount, currency=entry.currency,
            used=spent, remaining=amount - spent,
        )  # fmt: skip
        if entry.kind == AccountEntry.Kind.DISCOUNT:
            statement.discounts.append(row)
            of(entry.currency).discount_remaining += row.remaining
        elif entry.kind == AccountEntry.Kind.DEFERRAL:
            statement.deferrals.append(row)
            of(entry.currency).deferral_remaining += row.remaining
        else:
            # Credit notes, and the credit of a plan change or an extension, are all credit
            # notes on the account: numbered, with a PDF.
            statement.credit_notes.append(row)
            of(entry.currency).credit_notes += amount
    statement.totals = [totals[code] for code in sorted(totals)]
    return statement


def _used_by_credit(customer: Customer) -> dict[int, Decimal]:
    """What each discount or deferral has already taken off invoices."""
    used: dict[int, Decimal] = defaultdict(Decimal)
    rows = (
        InvoiceAdjustment.objects.filter(credit__customer=customer)
        .values("credit_id")
        .annotate(total=Sum("amount"))
    )
    for row in rows:
        used[row["credit_id"]] = row["total"]
    return used
