"""Which credit forms can be carried out for a change: one refusal per form, beside the services
that carry them out. Pages and serializers ask `credit_form_refusal` (or `offered_forms`) before
offering a form; `change_request_create` enforces the same answer.
"""

from datetime import date

from django.db.models import Max, QuerySet

from licensing.errors import DomainError
from licensing.models import Contract, ContractLine, Invoice, Plan

from ..models import CreditForm

ENDED = (Contract.Status.TERMINATED, Contract.Status.EXPIRED)


def deferral_targets(*, contract: Contract, on: date, exclude: list[int] = ()) -> QuerySet:
    """The later entitlements or renewals that can receive deferred value: the lines of the
    customer's contracts in the contract's currency that run past `on` and are still to be
    invoiced, other than the lines being changed."""
    return (
        ContractLine.objects.filter(
            contract__customer_id=contract.customer_id,
            contract__currency=contract.currency,
            contract__term_end__gt=on,
        )
        .exclude(contract__status__in=ENDED)
        .exclude(pk__in=list(exclude))
        .select_related("contract", "plan")
        .order_by("contract__term_start", "contract__number", "pk")
    )


def smaller_plans(*, contract_line: ContractLine) -> QuerySet:
    """The lower plans of the same product the line can move to: same currency, billing cycle
    and pricing, a lower unit price."""
    plan = contract_line.plan
    if plan.product_id is None:
        return Plan.objects.none()
    return Plan.objects.filter(
        product_id=plan.product_id,
        currency=plan.currency,
        billing_cycle=plan.billing_cycle,
        pricing_model=plan.pricing_model,
        unit_price__lt=contract_line.unit_price,
    ).order_by("-unit_price", "name")


def smaller_plans_by_line(*, contract_lines: list[ContractLine]) -> dict[int, list[Plan]]:
    """`smaller_plans` for several lines in one query: {line id: its lower plans}."""
    products = {line.plan.product_id for line in contract_lines} - {None}
    plans = list(Plan.objects.filter(product_id__in=products).order_by("-unit_price", "name"))
    return {
        line.pk: [
            plan for plan in plans
            if plan.product_id == line.plan.product_id and plan.currency == line.plan.currency
            and plan.billing_cycle == line.plan.billing_cycle
            and plan.pricing_model == line.plan.pricing_model
            and plan.unit_price < line.unit_price
        ]
        for line in contract_lines
    }  # fmt: skip


def _has_later_invoice(contract: Contract, on: date) -> bool:
    """Whether billing will invoice the contract again after `on`: its term runs past what has
    been invoiced and past `on`."""
    last = Invoice.objects.filter(contract=contract).aggregate(end=Max("period_end"))["end"]
    return contract.term_end > max(on, last or on)


def credit_form_refusal(
    *, form: str, contract: Contract, intent: str | None, effective_date: date,
    contract_lines: list[ContractLine] | None = None,
    targets: list[ContractLine] | None = None, plans: dict[int, list[Plan]] | None = None,
) -> str | None:  # fmt: skip
    """Why the credit for this change cannot take `form`, or None when it can.

    `intent` and `contract_lines` may be unknown yet (a page offering forms before the customer
    chose): the answer then covers what is known. A page that lists the deferral `targets` and
    the smaller `plans` (by line) anyway passes them, so they are read once.
    """
    if form == CreditForm.FUTURE_DISCOUNT:
        if intent == "terminate":
            return "A terminated contract has no future invoices to discount."
        if not _has_later_invoice(contract, effective_date):
            return "The contract has no invoice still to come to carry a discount."
    elif form == CreditForm.DEFERRAL:
        if targets is None:
            # Lines not chosen yet: any of the contract's lines may be the ones changing.
            changing = contract_lines if contract_lines is not None else contract.lines.all()
            exclude = [line.pk for line in changing]
            targets = deferral_targets(contract=contract, on=effective_date, exclude=exclude)
        if not targets:
            return "No later entitlement or renewal in this currency can receive the value."
    elif form == CreditForm.SERVICE_EXTENSION:
        if intent == "terminate":
            return "A terminated contract keeps no service time to extend."
    elif form == CreditForm.PLAN_CHANGE:
        if intent in ("pause", "terminate"):
            return "Only a downgrade can move to a smaller plan."
        if plans is None:
            lines = contract_lines or list(contract.lines.select_related("plan"))
            plans = smaller_plans_by_line(contract_lines=lines)
        if not any(plans.values()):
            return "There is no smaller plan of the same product to move to."
    return None


def offered_forms(
    *, allowed: tuple[str, ...], contract: Contract, intent: str | None, effective_date: date,
    targets: list[ContractLine] | None = None, plans: dict[int, list[Plan]] | None = None,
) -> list[tuple[str, str]]:  # fmt: skip
    """The forms a page may offer: allowed by the policy and possible for this contract."""
    return [
        (value, label)
        for value, label in CreditForm.choices
        if value in allowed
        and credit_form_refusal(
            form=value, contract=contract, intent=intent, effective_date=effective_date,
            targets=targets, plans=plans,
        ) is None
    ]  # fmt: skip


def check_credit_form(
    *, form: str, contract: Contract, intent: str, effective_date: date,
    contract_lines: list[ContractLine], deferred_to: int | None,
    plans_after: dict[int, int | None],
) -> ContractLine | None:  # fmt: skip
    """Enforce the refusal and the form's own choice; returns the deferral's receiving line."""
    refusal = credit_form_refusal(
        form=form, contract=contract, intent=intent, effective_date=effective_date,
        contract_lines=contract_lines,
    )  # fmt: skip
    if refusal:
        raise DomainError(refusal, field="form")
    target = None
    if form == CreditForm.DEFERRAL:
        targets = deferral_targets(contract=contract, on=effective_date,
                                   exclude=[line.pk for line in contract_lines])  # fmt: skip
        target = targets.filter(pk=deferred_to).first() if deferred_to else None
        if target is None:
            raise DomainError(
                "Choose the later entitlement or renewal that receives the value.",
                field="deferred_to",
            )
    elif deferred_to:
        raise DomainError("Only a deferral names a line to receive the value.",
                          field="deferred_to")  # fmt: skip
    for line in contract_lines:
        plan_id = plans_after.get(line.pk)
        if form != CreditForm.PLAN_CHANGE:
            if plan_id:
                raise DomainError("Only a move to a smaller plan names a plan.", field="plan_after")
            continue
        if plan_id and not smaller_plans(contract_line=line).filter(pk=plan_id).exists():
            raise DomainError(
                f"Choose a lower plan of the same product for {line.plan.name}.",
                field="plan_after",
            )
    chosen = [plans_after.get(line.pk) for line in contract_lines]
    if form == CreditForm.PLAN_CHANGE and not any(chosen):
        raise DomainError("Choose the smaller plan to move to.", field="plan_after")
    return target
