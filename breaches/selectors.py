"""Every read a breaches page, API or task needs; QuerySets with their joins prefetched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Min, Prefetch, QuerySet

from licensing.models import Contract, Customer, Invoice

from .models import (
    BreachCase,
    BreachNotice,
    CaseEvent,
    Communication,
    CommunicationAttachment,
    Milestone,
    RemediationOption,
    UsageFigure,
    UsageWarning,
)


def usage_warning_banners(*, customer: Customer, on: date) -> QuerySet[UsageWarning]:
    """The portal's banners: warnings of the customer's entitlements current on `on` that
    nobody put away, the highest threshold first. Empty means no banner."""
    return (
        UsageWarning.objects.filter(
            entitlement__contract__customer=customer,
            entitlement__starts_on__lte=on,
            entitlement__ends_on__gt=on,
            dismissed_at__isnull=True,
        )
        .select_related("entitlement")
        .order_by("-threshold", "-day", "pk")
    )


def has_usage_warning(*, customer: Customer, on: date) -> bool:
    """Whether the portal shows a usage banner to this customer today."""
    return usage_warning_banners(customer=customer, on=on).exists()


def breach_case_list(*, base: QuerySet[BreachCase]) -> QuerySet[BreachCase]:
    """The queue: each case with its entitlement, contract, customer and owner in one query."""
    return base.select_related(
        "entitlement__contract__customer", "owner", "policy", "agreed_option"
    ).order_by("-opened_at", "-id")


def breach_case_detail(*, base: QuerySet[BreachCase]) -> QuerySet[BreachCase]:
    """One case with everything its page and API show, in a fixed number of queries."""
    return breach_case_list(base=base).prefetch_related(
        Prefetch("options", queryset=RemediationOption.objects.order_by("pk")),
        Prefetch("milestones", queryset=Milestone.objects.select_related("our_contact")),
        Prefetch(
            "events",
            queryset=CaseEvent.objects.select_related("actor", "communication").order_by(
                "at", "pk"
            ),
        ),
        "earlier_overuse",
        Prefetch(
            "communications",
            queryset=Communication.objects.select_related("logged_by").prefetch_related(
                Prefetch(
                    "attachments",
                    queryset=CommunicationAttachment.objects.defer("content").order_by("pk"),
                )
            ),
        ),
        Prefetch("notices", queryset=BreachNotice.objects.defer("pdf").order_by("pk")),
        "classified_by",
    )


def case_timeline(case: BreachCase, *, customer_view: bool = False) -> list[CaseEvent]:
    """One entry per transition, classification, agreement, communication (and the rest), in
    order; a customer sees only the entries meant for them. Uses the prefetch when present."""
    events = list(case.events.all())
    if customer_view:
        events = [e for e in events if e.customer_visible]
    return events


def offered_options(case: BreachCase) -> list[RemediationOption]:
    return [option for option in case.options.all() if option.dropped_at is None]


@dataclass(frozen=True)
class PaymentRecord:
    invoices: int
    paid_on_time: int
    paid_late: int
    unpaid: int
    overdue: int

    @property
    def text(self) -> str:
        if not self.invoices:
            return "No invoices yet."
        return (
            f"{self.paid_on_time} of {self.invoices} invoices paid on time, {self.paid_late} "
            f"late, {self.unpaid} unpaid ({self.overdue} overdue)."
        )


@dataclass(frozen=True)
class CustomerContext:
    """What a manager weighs beside a classification: tenure, earlier cases, payments."""

    customer: Customer
    customer_since: date | None
    tenure_days: int
    earlier_cases: list[BreachCase]
    earlier_willful: int
    payments: PaymentRecord

    @property
    def tenure_text(self) -> str:
        if self.customer_since is None:
            return "No contract yet."
        years, days = divmod(self.tenure_days, 365)
        months = days // 30
        parts = [f"{years} year{'s' if years != 1 else ''}"] if years else []
        if months or not parts:
            parts.append(f"{months} month{'s' if months != 1 else ''}")
        return f"Customer since {self.customer_since:%-d %B %Y} ({' '.join(parts)})."


# An invoice is late when paid more than this many days after it was issued.
PAYMENT_TERMS_DAYS = 30


def customer_context(*, customer: Customer, on: date, case: BreachCase | None = None
                     ) -> CustomerContext:  # fmt: skip
    """Tenure (from the first contract's start), earlier breach cases (every other case of the
    customer, newest first) and the payment record (paid within 30 days of issue or not)."""
    contracts = Contract.objects.filter(customer=customer)
    since = contracts.aggregate(first=Min("term_start"))["first"]
    earlier = BreachCase.objects.filter(entitlement__contract__customer=customer).select_related(
        "entitlement"
    )
    if case is not None:
        earlier = earlier.exclude(pk=case.pk).filter(opened_at__lt=case.opened_at)
    earlier = list(earlier.order_by("-opened_at"))
    invoices = list(Invoice.objects.filter(contract__customer=customer, issued_on__lte=on))
    terms = timedelta(days=PAYMENT_TERMS_DAYS)
    paid = [i for i in invoices if i.paid_on is not None]
    late = sum(1 for i in paid if i.paid_on > i.issued_on + terms)
    unpaid = [i for i in invoices if i.paid_on is None]
    payments = PaymentRecord(
        invoices=len(invoices), paid_on_time=len(paid) - late, paid_late=late,
        unpaid=len(unpaid), overdue=sum(1 for i in unpaid if i.issued_on + terms < on),
    )  # fmt: skip
    return CustomerContext(
        customer=customer, customer_since=since,
        tenure_days=(on - since).days if since and since <= on else 0,
        earlier_cases=earlier,
        earlier_willful=sum(1 for c in earlier if c.classification == "willful"),
        payments=payments,
    )  # fmt: skip


def customer_cases(*, customer: Customer) -> QuerySet[BreachCase]:
    """A customer's own cases, for the portal."""
    return breach_case_list(
        base=BreachCase.objects.filter(entitlement__contract__customer=customer)
    )


def usage_series(*, entitlement, start: date, end: date) -> dict[str, list[tuple[date, int]]]:
    """Current daily figures per metric within [start, end): the portal's and case's chart."""
    series: dict[str, list[tuple[date, int]]] = {}
    rows = (
        UsageFigure.objects.filter(
            entitlement=entitlement, replaced_at__isnull=True, day__gte=start, day__lt=end
        )
        .order_by("metric", "day")
        .values_list("metric", "day", "quantity")
    )
    for metric, day, quantity in rows:
        series.setdefault(metric, []).append((day, quantity))
    return series
