"""The credits panel of the governance dashboard (registered in CreditsConfig.ready): credits
requested, issued, rejected and disputed with their amounts, and approval time per step."""

from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal

from django.db.models import Count, Sum
from django.utils import timezone

from audit.governance import bar_chart, hours, median_seconds
from licensing.money import round_money

from .models import ApprovalStep, Credit, Dispute


def _window(since: date, on: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(since, time.min))
    end = timezone.make_aware(datetime.combine(on, time.max))
    return start, end


OUTCOMES = [
    ("Requested", {}),
    ("Issued", {"status__in": [Credit.Status.ISSUED, Credit.Status.REVERSED]}),
    ("Rejected", {"status": Credit.Status.REJECTED}),
]


def credits_panel(*, on: date, since: date) -> dict:
    start, end = _window(since, on)
    requested = Credit.objects.filter(created_at__range=(start, end))
    totals: dict[tuple[str, str], tuple[int, Decimal]] = {}
    for label, criteria in OUTCOMES:
        rows = (
            requested.filter(**criteria)
            .values("currency")
            .annotate(n=Count("id"), amount=Sum("amount"))
        )
        for row in rows:
            totals[(label, row["currency"])] = (row["n"], row["amount"])
    disputed = (
        requested.filter(pk__in=Dispute.objects.values("credit_id")).values("currency")
        .annotate(n=Count("id"), amount=Sum("amount"))
    )  # fmt: skip
    for row in disputed:
        totals[("Disputed", row["currency"])] = (row["n"], row["amount"])
    labels = [label for label, _ in OUTCOMES] + ["Disputed"]
    currencies = sorted({currency for _, currency in totals})
    amounts = [
        [f"{label} ({currency})", totals.get((label, currency), (0, 0))[0],
         str(round_money(totals.get((label, currency), (0, Decimal(0)))[1], currency))]
        for currency in currencies for label in labels
    ]  # fmt: skip
    open_disputes = Dispute.objects.filter(status=Dispute.Status.OPEN).count()
    steps = _approval_times(start, end)
    return {
        "tables": [
            {
                "title": "Credits by outcome",
                "columns": ["Outcome", "Credits", "Amount"],
                "rows": amounts,
            },
            {
                "title": "Approval time per step",
                "columns": ["Step", "Decided", "Median hours", "Slowest hours"],
                "rows": steps,
            },
        ],  # fmt: skip
        "charts": [
            {
                "title": "Credits by outcome",
                "config": bar_chart(
                    labels,
                    {
                        currency: [totals.get((label, currency), (0, 0))[0] for label in labels]
                        for currency in currencies
                    },
                ),
            },
            {
                "title": "Median hours to decide, per step",
                "config": bar_chart(
                    [row[0] for row in steps], {"Median hours": [row[2] for row in steps]}
                ),
            },
        ],  # fmt: skip
        "note": f"Credits requested in the period, by currency. Open disputes: {open_disputes}.",
    }


def _approval_times(start: datetime, end: datetime) -> list[list]:
    """Per step (order and role): how long from the step's turn to its decision. Step 1's turn
    starts when the credit is requested, a later step's when the step before it was decided."""
    steps = (
        ApprovalStep.objects.filter(credit__created_at__range=(start, end))
        .order_by("credit_id", "order")
        .values_list("credit_id", "order", "role", "decided_at", "credit__created_at")
    )
    waits: dict[tuple[int, str], list[float]] = defaultdict(list)
    turn_of: dict[int, datetime] = {}
    for credit_id, order, role, decided_at, requested_at in steps:
        began = requested_at if order == 1 else turn_of.get(credit_id)
        if decided_at is not None and began is not None:
            waits[(order, role)].append((decided_at - began).total_seconds())
        turn_of[credit_id] = decided_at
    return [
        [f"Step {order}: {role.replace('_', ' ')}", len(durations),
         hours(median_seconds(durations)), hours(max(durations))]
        for (order, role), durations in sorted(waits.items())
    ]  # fmt: skip
