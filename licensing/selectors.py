from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from .errors import DomainError
from .models import Contract, ContractLine, Entitlement, LedgerEntry, PolicyVersion


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
