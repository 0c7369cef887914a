"""Quote inputs for a real contract, read from its invoices and the entitlement ledger.

Nobody retypes numbers: amounts come from paid invoices, quantities from the ledger on the
effective date, earlier credits from the credits already reserved against each payment.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Sum

from licensing.errors import DomainError
from licensing.models import Contract, ContractLine, Entitlement, InvoiceLine, Plan
from licensing.money import round_money
from licensing.pricing.arithmetic import ProrationError
from licensing.pricing.calendar import billing_period
from licensing.selectors import contract_holdings_on

from .engine import (
    Component,
    Line,
    LineQuote,
    Quote,
    QuoteRequest,
    Rules,
    after_for,
    apply_minimum_credit,
    quote,
)
from .models import ChangeLine, Credit

RESERVING = [Credit.Status.PENDING, Credit.Status.SENT_BACK, Credit.Status.APPROVED,
             Credit.Status.ISSUED]  # fmt: skip


@dataclass(frozen=True)
class LineInputs:
    contract_line: ContractLine
    invoice_line: InvoiceLine | None
    line: Line
    quantity_before: int
    quantity_after: int | None
    request: QuoteRequest


@dataclass(frozen=True)
class ContractQuoteInputs:
    lines: tuple[LineInputs, ...]


def basis_of(plan: Plan) -> str:
    if plan.bundle_id:
        return "bundle"
    return "usage" if plan.pricing_model == Plan.PricingModel.PER_UNIT else "seat"


def quantity_on(contract: Contract, line: ContractLine, on: date, holdings=None) -> int:
    """Seats the line's seat pools held on the date, from the ledger; the line's own quantity
    where it has no seat pool (or none held yet). Pass `holdings` to read the ledger once for
    several lines."""
    pools = [e.pk for e in line.entitlements.all() if e.kind == Entitlement.Kind.SEAT_POOL]
    if not pools:
        return line.quantity
    if holdings is None:
        holdings = contract_holdings_on(contract_id=contract.pk, on=on)
    seats = [holdings[pk].quantity for pk in pools if pk in holdings]
    return sum(seats) if seats else line.quantity


def included_units(line: ContractLine) -> int:
    quotas = [e.quantity for e in line.entitlements.all() if e.kind == Entitlement.Kind.API_QUOTA]
    return sum(quotas) if quotas else line.quantity


def _reserved(invoice_line: InvoiceLine | None, exclude: Credit | None = None) -> Decimal:
    if invoice_line is None:
        return Decimal(0)
    reserving = ChangeLine.objects.filter(
        invoice_line=invoice_line, change__credit__status__in=RESERVING
    )
    if exclude is not None:
        reserving = reserving.exclude(change__credit=exclude)
    total = reserving.aggregate(total=Sum("credit"))["total"]
    return total or Decimal(0)


def contract_quote_inputs(
    *, contract: Contract, intent: str, effective_date: date, changes: list[dict],
    lock: bool = False, resume_date: date | None = None,
) -> ContractQuoteInputs:  # fmt: skip
    lines = []
    seen = set()
    for change in changes:
        try:
            contract_line = (
                contract.lines.select_related("plan__bundle")
                .prefetch_related("entitlements", "plan__bundle__items__product")
                .get(pk=change["contract_line"])
            )
        except (ContractLine.DoesNotExist, KeyError, ValueError, TypeError):
            raise DomainError("Choose lines of this contract.") from None
        if contract_line.pk in seen:
            raise DomainError("A contract line is named twice.")
        seen.add(contract_line.pk)
        lines.append(_line_inputs(contract, contract_line, intent, effective_date, change, lock,
                                  resume=resume_date))  # fmt: skip
    return ContractQuoteInputs(tuple(lines))


def corrected_quote_inputs(*, credit: Credit, corrections: list[dict]) -> ContractQuoteInputs:
    """The inputs of `credit` with what a dispute corrected (`quantity_after`, `units_used` per
    contract line): quantities before the change as they were frozen at request (the ledger has
    since moved), and the credit itself not counted among the earlier credits of its payment, so
    the engine prices the whole corrected credit afresh."""
    by_line = {}
    for correction in corrections:
        by_line[correction.get("contract_line")] = correction
    change = credit.change
    originals = list(change.lines.select_related("contract_line__plan__bundle"))
    unknown = set(by_line) - {line.contract_line_id for line in originals}
    if unknown:
        raise DomainError("Correct only the lines of the disputed credit.", field="corrections")
    lines = []
    for original in originals:
        correction = by_line.get(original.contract_line_id, {})
        values = {
            "contract_line": original.contract_line_id,
            "quantity_after": correction.get("quantity_after", original.quantity_after),
            "units_used": correction.get("units_used", original.units_used),
        }
        lines.append(
            _line_inputs(credit.contract, original.contract_line, change.intent,
                         change.effective_date, values, lock=True,
                         before=original.quantity_before, exclude=credit,
                         resume=change.resume_date)
        )  # fmt: skip
    return ContractQuoteInputs(tuple(lines))


DOWNGRADE_TO_NOTHING = (
    "A downgrade to 0 seats is a termination: request a termination instead, which also ends "
    "the line's billing."
)


def _line_inputs(
    contract, contract_line, intent, effective, change, lock, before=None, exclude=None,
    resume=None,
) -> LineInputs:  # fmt: skip
    plan = contract_line.plan
    invoice_lines = InvoiceLine.objects.filter(
        contract_line=contract_line,
        invoice__period_start__lte=effective,
        invoice__period_end__gt=effective,
    ).select_related("invoice")
    if lock:
        invoice_lines = invoice_lines.select_for_update(of=("self",))
    invoice_line = invoice_lines.order_by("pk").first()
    if invoice_line is not None:
        start, end = invoice_line.invoice.period_start, invoice_line.invoice.period_end
        paid = invoice_line.amount if invoice_line.invoice.is_paid else Decimal(0)
        quantity_paid = invoice_line.quantity
    else:
        try:
            start, end = billing_period(contract.billing_anchor, plan.billing_cycle, effective)
        except ProrationError as error:
            raise DomainError(error.message) from None
        paid, quantity_paid = Decimal(0), contract_line.quantity
    future = InvoiceLine.objects.filter(
        contract_line=contract_line, invoice__period_start__gte=end, invoice__paid_on__isnull=False
    ).aggregate(total=Sum("amount"))["total"] or Decimal(0)
    if before is None:
        before = quantity_on(contract, contract_line, effective)
    if before <= 0:
        raise DomainError(
            f"{contract_line.plan.name} holds nothing on {effective:%-d %b %Y}: nothing to release."
        )
    try:
        after = after_for(intent, change.get("quantity_after"))
    except ProrationError as error:
        raise DomainError(error.message) from None
    if intent == "pause":
        after = None  # a pause stops the whole line for a while: nothing is "after" it
    if intent == "downgrade" and after == 0:
        # Credited in full while the contract line kept billing every seat: that is a termination.
        raise DomainError(DOWNGRADE_TO_NOTHING, field="quantity_after")
    basis = basis_of(plan)
    common = {
        "id": f"line-{contract_line.pk}",
        "basis": basis,
        "amount_paid": paid,
        "already_credited": _reserved(invoice_line, exclude),
        "prepaid_future_amount": future if contract.prepaid else Decimal(0),
    }
    if basis == "seat":
        line = Line(**common, quantity_before=before, quantity_after=after,
                    quantity_paid=max(quantity_paid, before))  # fmt: skip
    elif basis == "usage":
        if change.get("units_used") is None:
            raise DomainError("Give the units used so far for a usage line.")
        line = Line(**common, included_units=included_units(contract_line),
                    units_used=change["units_used"])  # fmt: skip
    else:
        items = list(plan.bundle.items.all())
        line = Line(**common, components=tuple(
            Component(item.product.name, item.standalone_price, item.quantity * before,
                      None if after is None else item.quantity * after,
                      quantity_paid=item.quantity * max(quantity_paid, before))
            for item in items
        ))  # fmt: skip
    request = QuoteRequest(contract.currency, intent, start, end, effective, (line,), resume)
    return LineInputs(contract_line, invoice_line, line, before, after, request)


def price_line(spec: LineInputs, engine: Rules) -> LineQuote:
    """One line in its own billing period; the policy minimum is for the whole request."""
    per_line = Rules(engine.termination, engine.prepaid_refundable_share)
    try:
        (line_quote,) = quote(spec.request, per_line).lines
    except ProrationError as error:
        raise DomainError(f"{error.field}: {error.message}") from None
    return line_quote


def total_quote(lines: list[LineQuote], engine: Rules, currency: str, intent: str) -> Quote:
    """Sum priced lines into the request's quote, applying the policy's minimum credit."""
    total = sum((line.credit for line in lines), round_money(Decimal(0), currency))
    total, notes = apply_minimum_credit(total, engine.minimum_credit, currency)
    return Quote(currency, intent, tuple(lines), total, notes)


def check_paid_ceiling(*, credit: Credit) -> None:
    """Last guard at issue: issued credits on one payment never exceed what was paid."""
    for change_line in credit.change.lines.select_related("invoice_line__invoice"):
        invoice_line = change_line.invoice_line
        if invoice_line is None:
            continue
        InvoiceLine.objects.select_for_update().get(pk=invoice_line.pk)
        issued = ChangeLine.objects.filter(
            invoice_line=invoice_line, change__credit__status=Credit.Status.ISSUED
        ).exclude(change__credit=credit).aggregate(total=Sum("credit"))["total"] or Decimal(0)
        future = InvoiceLine.objects.filter(
            contract_line=invoice_line.contract_line,
            invoice__period_start__gte=invoice_line.invoice.period_end,
            invoice__paid_on__isnull=False,
        ).aggregate(total=Sum("amount"))["total"] or Decimal(0)
        ceiling = invoice_line.amount + future
        if issued + change_line.credit > ceiling:
            raise DomainError(
                f"Issuing {credit} would credit more than was paid for invoice "
                f"{invoice_line.invoice.number}; reject it and request again."
            )
