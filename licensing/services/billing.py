"""Invoices as billing recorded them: the base of every credit."""

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction

from audit.services import audit_record

from ..errors import DomainError
from ..models import (
    Contract,
    ContractLine,
    Invoice,
    InvoiceLine,
)
from ._common import (
    _require_perm,
    _stamp,
)

# Apps that act on a recorded invoice (credits takes its discounts off it) register here from
# their AppConfig.ready: licensing names no consumer. Each hook runs in the recording transaction
# as `hook(actor=, invoice=)`, so an invoice and what it carries are recorded together or not.
_invoice_hooks: list[Callable[..., None]] = []


def register_invoice_hook(hook: Callable[..., None]) -> None:
    if hook not in _invoice_hooks:
        _invoice_hooks.append(hook)


@transaction.atomic
def invoice_record(
    *,
    actor,
    contract: Contract,
    number: str,
    period_start: date,
    period_end: date,
    lines: list[tuple[ContractLine, int, Decimal]],
    issued_on: date,
    paid_on: date | None = None,
    due_on: date | None = None,
    reason: str = "Invoice recorded from billing",
) -> Invoice:
    """Record what billing invoiced (and whether it was paid), the base of every credit.

    ``due_on`` defaults to the issue date plus the contract's payment terms.
    """
    _require_perm(actor, "licensing.add_invoice", "record invoices")
    if period_end <= period_start:
        raise DomainError("An invoice period must end after it starts.")
    due_on = due_on or issued_on + timedelta(days=contract.payment_terms_days)
    if due_on < issued_on:
        raise DomainError("An invoice cannot fall due before it is issued.", field="due_on")
    invoice = Invoice(
        contract=contract, number=number, currency=contract.currency, period_start=period_start,
        period_end=period_end, issued_on=issued_on, due_on=due_on, paid_on=paid_on,
    )  # fmt: skip
    _stamp(invoice, actor=actor, reason=reason)
    invoice.save()
    for contract_line, quantity, amount in lines:
        if contract_line.contract_id != contract.pk:
            raise DomainError("Invoice lines must belong to the invoiced contract.")
        line = InvoiceLine(
            invoice=invoice, contract_line=contract_line, quantity=quantity, amount=amount
        )
        _stamp(line, actor=actor, reason=reason)
        line.save()
    audit_record(
        actor=actor,
        action="invoice.record",
        object_type="licensing.invoice",
        object_id=invoice.pk,
        reason=reason,
        data={"number": number, "period_start": period_start, "period_end": period_end,
              "due_on": due_on, "paid_on": paid_on,
              "total": sum((a for _, _, a in lines), Decimal(0))},
    )  # fmt: skip
    for hook in _invoice_hooks:
        hook(actor=actor, invoice=invoice)
    return invoice
