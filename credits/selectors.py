from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from licensing.errors import DomainError
from licensing.models import ScheduledChange
from licensing.roles import ADMIN, role_of
from licensing.selectors import contract_holdings_on
from licensing.selectors import scheduled_changes as licensing_scheduled_changes

from .models import (
    ApprovalStep,
    ChangeLine,
    Credit,
    CreditNoteSequence,
    CreditPolicyVersion,
    Dispute,
)
from .rules import CreditRules, parse_rules


def credit_policy_in_force(*, on: date) -> CreditPolicyVersion:
    """The version that prices a change effective `on`; none in force is a refusal."""
    policy = credit_policy_in_force_or_none(on=on)
    if policy is None:
        raise DomainError(f"No credit policy is in force on {on:%Y-%m-%d}.")
    return policy


def credit_policy_in_force_or_none(*, on: date) -> CreditPolicyVersion | None:
    """The published version with the latest start on or before `on`: the one home of the rule
    (pages that list versions mark this one rather than working it out again)."""
    return published_policies().filter(effective_from__lte=on).first()


def policy_rules(policy: CreditPolicyVersion) -> CreditRules:
    return parse_rules(policy.rules)


def published_policies() -> QuerySet[CreditPolicyVersion]:
    """Every version customers may read, newest first: the changelog."""
    return CreditPolicyVersion.objects.filter(status=CreditPolicyVersion.Status.PUBLISHED).order_by(
        "-effective_from", "-number"
    )


def upcoming_policy(*, today: date) -> CreditPolicyVersion | None:
    return published_policies().filter(effective_from__gt=today).order_by("effective_from").first()


# Finance pages: each read below answers one page in a fixed number of queries.

AWAITING_DECISION = ("pending", "sent_back")


def _pending_step():
    return ApprovalStep.objects.filter(
        credit=OuterRef("pk"), status=ApprovalStep.Status.PENDING
    ).order_by("order")


def credit_queue(*, now: datetime) -> QuerySet[Credit]:
    """Credits awaiting a decision, with their pending step: overdue first, then by due time.

    A sent-back credit has no pending step (it waits for its requester), so it sorts last.
    """
    step = _pending_step()
    return (
        Credit.objects.filter(status__in=AWAITING_DECISION)
        .select_related("customer", "contract", "change__requested_by")
        .annotate(
            step_order=Subquery(step.values("order")[:1]),
            step_role=Subquery(step.values("role")[:1]),
            step_due_at=Subquery(step.values("due_at")[:1]),
            step_escalated_at=Subquery(step.values("escalated_at")[:1]),
            step_escalated_to=Subquery(step.values("escalated_to")[:1]),
        )
        .annotate(
            overdue=Case(
                When(step_due_at__lt=now, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by(F("overdue").desc(), F("step_due_at").asc(nulls_last=True), "pk")
    )


def credits_mine_to_decide(queryset: QuerySet[Credit], *, user) -> QuerySet[Credit]:
    """Of `queryset` (from `credit_queue`), the credits whose pending step `user` may decide:
    the step's role or the role it was escalated to, never a credit they requested, calculated
    or already decided a step of. The same rules as `services.credit_decision_refusal`, as a
    query so the queue filters without loading every row."""
    role = role_of(user) or ""
    queryset = queryset.filter(status=Credit.Status.PENDING, step_order__isnull=False)
    if role != ADMIN:
        queryset = queryset.filter(Q(step_role=role) | Q(step_escalated_to=role))
    decided = ApprovalStep.objects.filter(decided_by=user).exclude(
        status=ApprovalStep.Status.SENT_BACK
    )
    return (
        queryset.exclude(change__requested_by=user)
        .exclude(calculated_by=user)
        .exclude(pk__in=decided.values("credit_id"))
    )


def credit_detail(*, pk: int) -> Credit:
    """One credit with everything its page and its credit note show, prefetched."""
    return (
        Credit.objects.select_related(
            "customer", "contract", "policy", "calculated_by", "change__requested_by", "corrects"
        )
        .prefetch_related(
            Prefetch(
                "change__lines",
                queryset=ChangeLine.objects.select_related(
                    "contract_line__plan", "invoice_line__invoice"
                ),
            ),
            Prefetch(
                "steps",
                queryset=ApprovalStep.objects.select_related("decided_by").order_by("order"),
            ),
            Prefetch(
                "disputes",
                queryset=Dispute.objects.select_related(
                    "raised_by", "resolved_by", "corrective_credit"
                ).order_by("-raised_at", "-pk"),
            ),
        )
        .get(pk=pk)
    )


@dataclass(frozen=True)
class CalculationLine:
    """One change line as a customer reads it, with its bundle components from the frozen quote."""

    plan: str
    basis: str
    quantity_before: int | None
    quantity_after: int | None
    units_used: int | None
    amount_paid: Decimal
    credit: Decimal
    explanation: str
    invoice: str
    components: list[dict]
    unit: str = "seats"


def credit_calculation(*, credit: Credit) -> list[CalculationLine]:
    """The calculation line by line; uses the lines prefetched by `credit_detail`."""
    frozen = {line["id"]: line for line in (credit.change.quote or {}).get("lines", [])}
    rows = []
    for line in credit.change.lines.all():
        quoted = frozen.get(f"line-{line.contract_line_id}", {})
        rows.append(
            CalculationLine(
                plan=line.contract_line.plan.name,
                basis=line.basis,
                quantity_before=line.quantity_before,
                quantity_after=line.quantity_after,
                units_used=line.units_used,
                amount_paid=line.amount_paid,
                credit=line.credit,
                explanation=line.explanation,
                invoice=line.invoice_line.invoice.number if line.invoice_line else "",
                components=[
                    {**c, "credit": Decimal(c["credit"])} for c in quoted.get("components", [])
                ],
                unit=f"{line.contract_line.plan.unit_label}s",
            )
        )
    return rows


def credit_history(*, credit: Credit) -> QuerySet:
    return credit.history.select_related("history_user").order_by("-history_date", "-pk")


def dispute_list() -> QuerySet[Dispute]:
    """Every dispute: open ones first, each group by due date."""
    return (
        Dispute.objects.select_related("credit__customer", "credit__contract", "raised_by")
        .annotate(
            is_open=Case(
                When(status=Dispute.Status.OPEN, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by(F("is_open").desc(), "due_on", "pk")
    )


def policy_versions() -> QuerySet[CreditPolicyVersion]:
    return CreditPolicyVersion.objects.select_related("published_by").order_by("-number")


# Customer portal reads. The imports sit with the section they serve so that it could be
# appended without touching the lines above; hoist them when the file is next reorganised.
# (dataclass, Decimal, Prefetch and the credit models come from the imports at the top.)
from licensing.models import Contract, ContractLine  # noqa: E402

from . import quoting  # noqa: E402
from .engine import LineQuote  # noqa: E402
from .models import ChangeRequest  # noqa: E402


def portal_credit_list(*, base: QuerySet[Credit]) -> QuerySet[Credit]:
    """A customer's credits (`base` from credits.access), newest first, with their list row."""
    return base.select_related("contract", "change").order_by("-created_at", "-pk")


def change_request_detail(*, base: QuerySet[ChangeRequest], pk: int) -> ChangeRequest:
    return (
        base.select_related("contract", "policy")
        .prefetch_related(
            Prefetch("lines", queryset=ChangeLine.objects.select_related("contract_line__plan"))
        )
        .get(pk=pk)
    )


@dataclass(frozen=True)
class ChangeableLine:
    """A contract line as the change form offers it: what is held on a date, how it is priced."""

    contract_line: ContractLine
    basis: str
    quantity_now: int
    included_units: int | None


def changeable_lines(*, contract: Contract, on: date) -> list[ChangeableLine]:
    lines = contract.lines.select_related("plan__bundle").prefetch_related(
        "entitlements", "plan__bundle__items__product"
    )
    holdings = contract_holdings_on(contract_id=contract.pk, on=on)
    result = []
    for line in lines.order_by("pk"):
        basis = quoting.basis_of(line.plan)
        result.append(
            ChangeableLine(
                contract_line=line,
                basis=basis,
                # The same ledger reading the engine's inputs use, so the form and quote agree.
                quantity_now=quoting.quantity_on(contract, line, on, holdings),
                included_units=quoting.included_units(line) if basis == "usage" else None,
            )
        )
    return result


@dataclass(frozen=True)
class PreviewLine:
    inputs: quoting.LineInputs
    quote: LineQuote


@dataclass(frozen=True)
class ChangePreview:
    policy: CreditPolicyVersion
    currency: str
    lines: tuple[PreviewLine, ...]
    total: Decimal
    notes: tuple[str, ...]
    # Per contract line id, the field the engine refused and why; empty when the quote stands.
    errors: dict[int, dict[str, str]]


def change_quote_preview(
    *, contract: Contract, intent: str, effective_date: date, changes: list[dict],
    resume_date: date | None = None,
) -> ChangePreview:  # fmt: skip
    """The quote `change_request_create` would freeze, computed without locking or writing.

    The same pricing as `services.change_request_create` (quoting.price_line and
    quoting.total_quote). Lines are read one at a time so that a refusal names its line.
    """
    policy = credit_policy_in_force(on=effective_date)
    engine = policy_rules(policy).engine
    lines, errors = [], {}
    for change in changes:
        try:
            (inputs,) = quoting.contract_quote_inputs(
                contract=contract,
                intent=intent,
                effective_date=effective_date,
                changes=[change],
                resume_date=resume_date,
            ).lines
            line_quote = quoting.price_line(inputs, engine)
        except DomainError as error:
            errors[change["contract_line"]] = {"__all__": str(error)}
            continue
        lines.append(PreviewLine(inputs, line_quote))
    currency = contract.currency
    result = quoting.total_quote([line.quote for line in lines], engine, currency, intent)
    total, notes = result.total, result.notes
    return ChangePreview(policy, currency, tuple(lines), total, notes, errors)


def credit_scheduled_changes(
    *, credit: Credit, pending_only: bool = True
) -> QuerySet[ScheduledChange]:
    """What the credit's change will still do, and when (its lines and entitlements); with
    `pending_only=False` also what it did and what was called off."""
    return licensing_scheduled_changes(
        base=ScheduledChange.objects.filter(source=f"credits.change:{credit.change_id}"),
        pending_only=pending_only,
    )


def credit_note_number(year: int, sequence: int) -> str:
    return f"CN-{year}-{sequence:06d}"


def next_credit_note_number(*, year: int) -> str:
    """The number the next credit note of `year` takes unless another is issued first: what an
    approver is told before approving the last step."""
    last = (
        CreditNoteSequence.objects.filter(year=year).values_list("last_number", flat=True).first()
    )
    return credit_note_number(year, (last or 0) + 1)
