"""What credits takes off an invoice billing recorded: discounts and deferred value.

Licensing records invoices and names no consumer; credits registers `invoice_adjustments_apply`
as licensing's invoice hook in its AppConfig.ready, so imports still run one way (credits ->
licensing). The service is idempotent (one adjustment per invoice and credit, enforced by a
constraint and checked first), so running it again for an invoice, by the hook or by hand,
changes nothing.
"""

from decimal import Decimal

from django.db import transaction
from django.db.models import Sum

from audit.services import audit_record
from licensing.models import Invoice
from licensing.money import round_money

from ..models import Credit, CreditForm, InvoiceAdjustment


def _used(credit: Credit) -> Decimal:
    return credit.adjustments.aggregate(total=Sum("amount"))["total"] or Decimal(0)


def credit_remaining(credit: Credit) -> Decimal:
    """What a discount or deferral has left to give."""
    return credit.amount - _used(credit)


@transaction.atomic
def invoice_adjustments_apply(*, actor, invoice: Invoice) -> list[InvoiceAdjustment]:
    """Take the contract's open discounts, and the deferrals aimed at its lines, off `invoice`."""
    invoice_total = invoice.lines.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    left = invoice_total - (
        invoice.credit_adjustments.aggregate(total=Sum("amount"))["total"] or Decimal(0)
    )
    line_ids = list(invoice.lines.values_list("contract_line_id", flat=True))
    candidates = (
        Credit.objects.select_for_update(of=("self",))
        .filter(status=Credit.Status.ISSUED, currency=invoice.currency)
        .filter(
            # A discount runs on its own contract; a deferral lands on the line it was aimed at.
            form=CreditForm.FUTURE_DISCOUNT,
            contract=invoice.contract_id,
        )
        .exclude(adjustments__invoice=invoice)
        .order_by("issued_at", "pk")
    )
    deferrals = (
        Credit.objects.select_for_update(of=("self",))
        .filter(
            status=Credit.Status.ISSUED,
            currency=invoice.currency,
            form=CreditForm.DEFERRAL,
            deferred_to__in=line_ids,
        )  # fmt: skip
        .exclude(adjustments__invoice=invoice)
        .order_by("issued_at", "pk")
    )
    made = []
    for credit in [*candidates, *deferrals]:
        if left <= 0:
            break
        amount = min(_due_now(credit), left)
        amount = round_money(amount, credit.currency)
        if amount <= 0:
            continue
        kind = (
            InvoiceAdjustment.Kind.DISCOUNT
            if credit.form == CreditForm.FUTURE_DISCOUNT
            else InvoiceAdjustment.Kind.DEFERRAL
        )
        adjustment = InvoiceAdjustment.objects.create(
            invoice=invoice, credit=credit, kind=kind, amount=amount, currency=credit.currency,
            description=f"{credit.get_form_display()} from credit {credit.number}",
        )  # fmt: skip
        left -= amount
        made.append(adjustment)
        audit_record(actor=actor, action="credit.apply_to_invoice", object_type="credits.credit",
                     object_id=credit.pk, reason=f"Applied to invoice {invoice.number}",
                     data={"invoice": invoice.number, "amount": amount, "kind": kind,
                           "currency": credit.currency,
                           "remaining": credit.amount - _used(credit)})  # fmt: skip
    return made


def _due_now(credit: Credit) -> Decimal:
    """A discount gives its instalments one invoice at a time (what a small invoice could not
    take carries over); a deferral gives all that is left."""
    remaining = credit_remaining(credit)
    if credit.form != CreditForm.FUTURE_DISCOUNT or not credit.schedule:
        return remaining
    given = credit.adjustments.count()
    scheduled = sum((Decimal(a) for a in credit.schedule[: given + 1]), Decimal(0))
    return max(Decimal(0), min(remaining, scheduled - _used(credit)))
