from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import (
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)

from .errors import DomainError
from .models import (
    Contract,
    ContractLine,
    Entitlement,
    LedgerEntry,
    Plan,
    PolicyVersion,
    ScheduledChange,
)
from .money import DECIMAL_PLACES, MAX_DIGITS
from .pricing.calendar import CYCLE_MONTHS


@dataclass(frozen=True)
class Holding:
    quantity: int
    state: str


def policy_in_force(*, kind: str, on: date) -> PolicyVersion:
    policy = (
        PolicyVersion.objects.filter(
            kind=kind, status=PolicyVersion.Status.PUBLISHED, effective_from__lte=on
        )
        .order_by("-effective_from", "-number")
        .first()
    )
    if policy is None:
        raise DomainError(f"No {kind} policy is in force on {on:%Y-%m-%d}.")
    return policy


def contract_list(*, base: QuerySet[Contract]) -> QuerySet[Contract]:
    return base.select_related("customer", "account_manager").annotate(
        entitlement_count=Count("entitlements", distinct=True),
        attention_count=Count(
            "entitlements",
            filter=Q(
                entitlements__state__in=[
                    Entitlement.State.SUSPENDED,
                    Entitlement.State.GRACE,
                    Entitlement.State.HELD,
                ]
            ),
            distinct=True,
        ),
    )


def contract_detail(*, base: QuerySet[Contract], pk: int) -> Contract:
    return (
        base.select_related("customer", "account_manager")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=ContractLine.objects.select_related("plan__product", "plan__bundle"),
            ),
            Prefetch(
                "entitlements",
                queryset=Entitlement.objects.prefetch_related("enforced_by").order_by("kind", "id"),
            ),
        )
        .get(pk=pk)
    )


def entitlement_list(*, base: QuerySet[Entitlement]) -> QuerySet[Entitlement]:
    return base.select_related("contract", "contract__customer").prefetch_related("enforced_by")


def entitlement_history(*, entitlement: Entitlement):
    return entitlement.history.select_related("history_user").order_by("-history_date", "-pk")


def contract_activity(*, contract: Contract, limit: int = 25) -> list:
    """Recent history of the contract and its entitlements, newest first."""
    contract_rows = list(
        contract.history.select_related("history_user").order_by("-history_date")[:limit]
    )
    entitlement_rows = list(
        Entitlement.history.filter(contract_id=contract.pk)
        .select_related("history_user")
        .order_by("-history_date")[:limit]
    )
    rows = sorted(
        contract_rows + entitlement_rows, key=lambda r: (r.history_date, r.pk), reverse=True
    )
    return rows[:limit]


def ledger_for_entitlement(*, entitlement: Entitlement) -> QuerySet[LedgerEntry]:
    return entitlement.ledger.select_related("actor").order_by("-effective_date", "-id")


def scheduled_changes(
    *, base: QuerySet[ScheduledChange] | None = None, pending_only: bool = True
) -> QuerySet[ScheduledChange]:
    """Scheduled changes with what their descriptions read, soonest first. Narrow `base` to a
    contract, an entitlement or a source (`source="credits.credit:12"`)."""
    base = ScheduledChange.objects.all() if base is None else base
    if pending_only:
        base = base.filter(state=ScheduledChange.State.PENDING)
    return base.select_related(
        "entitlement", "contract_line__plan", "plan_before", "plan_after"
    ).order_by("effective_date", "pk")


def contract_holdings_on(*, contract_id: int, on: date) -> dict[int, Holding]:
    """What the contract held on a date, answered from the ledger alone."""
    totals = dict(
        LedgerEntry.objects.filter(contract_id=contract_id, effective_date__lte=on)
        .values("entitlement_id")
        .annotate(total=Sum("quantity_delta"))
        .values_list("entitlement_id", "total")
    )
    states: dict[int, str] = {}
    rows = (
        LedgerEntry.objects.filter(contract_id=contract_id, effective_date__lte=on)
        .order_by("entitlement_id", "effective_date", "id")
        .values_list("entitlement_id", "state_after")
    )
    for entitlement_id, state in rows:
        states[entitlement_id] = state
    return {pk: Holding(int(totals[pk]), states[pk]) for pk in states}


def contract_holdings_now(*, contract_id: int) -> dict[int, Holding]:
    """The cached current state, in the ledger's terms, so tests can prove the two agree."""
    result = {}
    for ent in Entitlement.objects.filter(contract_id=contract_id).only("quantity", "state"):
        result[ent.pk] = Holding(ent.quantity if ent.holds_quantity else 0, ent.state)
    return result


# Read models for the dashboards. Amounts stay Decimal; pages round them with the money filter.

PERIODS_PER_YEAR = {cycle: 12 // months for cycle, months in CYCLE_MONTHS.items()}
OPEN_CONTRACT_STATUSES = (
    Contract.Status.DRAFT,
    Contract.Status.ACTIVE,
    Contract.Status.SUSPENDED,
)
ATTENTION_STATES = (
    Entitlement.State.GRACE,
    Entitlement.State.HELD,
    Entitlement.State.SUSPENDED,
)
_MONEY = DecimalField(max_digits=MAX_DIGITS + 10, decimal_places=DECIMAL_PLACES)


def _line_amount():
    return ExpressionWrapper(F("unit_price") * F("quantity"), output_field=_MONEY)


def _periods_per_year():
    return Case(
        *[When(plan__billing_cycle=cycle, then=n) for cycle, n in PERIODS_PER_YEAR.items()],
        default=1,
        output_field=IntegerField(),
    )


def entitlements_needing_attention(*, base: QuerySet[Entitlement]) -> QuerySet[Entitlement]:
    """In grace first, soonest grace end first; then held and suspended ones by period end."""
    return entitlement_list(base=base.filter(state__in=ATTENTION_STATES)).order_by(
        F("grace_ends_on").asc(nulls_last=True), "ends_on", "pk"
    )


def contracts_with_annual_value(*, base: QuerySet[Contract]) -> QuerySet[Contract]:
    """contract_list plus `annual_value`: what its plan lines bill in a year, in its currency."""
    lines = (
        ContractLine.objects.filter(contract=OuterRef("pk"))
        .order_by()
        .values("contract")
        .annotate(total=Sum(_line_amount() * _periods_per_year(), output_field=_MONEY))
        .values("total")
    )
    return contract_list(base=base).annotate(annual_value=Subquery(lines, output_field=_MONEY))


@dataclass(frozen=True)
class CycleValue:
    billing_cycle: str
    label: str
    contracts: int
    per_period: Decimal
    per_year: Decimal


@dataclass(frozen=True)
class CurrencyValue:
    currency: str
    cycles: list[CycleValue]
    contracts: int
    per_year: Decimal


def contract_value_by_currency(*, base: QuerySet[Contract]) -> list[CurrencyValue]:
    """What the contracts' plan lines bill per period, by currency and billing cycle.

    Two queries whatever the number of contracts. Currencies are never added together; each has
    its own yearly total.
    """
    rows = (
        ContractLine.objects.filter(contract__in=base)
        .values("contract__currency", "plan__billing_cycle")
        .annotate(contracts=Count("contract", distinct=True), amount=Sum(_line_amount()))
        .order_by("contract__currency", "plan__billing_cycle")
    )
    cycle_labels = dict(Plan.BillingCycle.choices)
    grouped: dict[str, list[CycleValue]] = {}
    for row in rows:
        cycle, amount = row["plan__billing_cycle"], row["amount"] or Decimal(0)
        grouped.setdefault(row["contract__currency"], []).append(
            CycleValue(
                billing_cycle=cycle,
                label=cycle_labels.get(cycle, cycle),
                contracts=row["contracts"],
                per_period=amount,
                per_year=amount * PERIODS_PER_YEAR.get(cycle, 1),
            )
        )
    counts = dict(
        base.order_by().values("currency").annotate(n=Count("id")).values_list("currency", "n")
    )
    return [
        CurrencyValue(
            currency=currency,
            cycles=cycles,
            contracts=counts.get(currency, 0),
            per_year=sum((c.per_year for c in cycles), Decimal(0)),
        )
        for currency, cycles in grouped.items()
    ]


@dataclass(frozen=True)
class LineTotals:
    lines: int
    per_period: Decimal | None  # None when the lines bill on different cycles: no common period
    per_year: Decimal


def contract_line_totals(*, contract: Contract) -> LineTotals:
    """Totals of a contract's plan lines, from the lines contract_detail prefetched."""
    lines = list(contract.lines.all())
    per_year = sum(
        (line.period_amount * PERIODS_PER_YEAR.get(line.plan.billing_cycle, 1) for line in lines),
        Decimal(0),
    )
    same_cycle = len({line.plan.billing_cycle for line in lines}) == 1
    per_period = sum((line.period_amount for line in lines), Decimal(0)) if same_cycle else None
    return LineTotals(lines=len(lines), per_period=per_period, per_year=per_year)


def api_token_holder(plaintext: str, *, now) -> "Entitlement | None":
    """The entitlement a presented API token grants now, or ``None`` (unknown, expired,
    revoked, or its entitlement no longer held)."""
    import hashlib

    from .models import ApiToken

    digest = hashlib.sha256(plaintext.encode()).hexdigest()
    token = ApiToken.objects.select_related("entitlement").filter(token_hash=digest).first()
    if token is None or not token.is_valid_at(now):
        return None
    if token.entitlement.state not in Entitlement.HOLDING_STATES:
        return None
    return token.entitlement
