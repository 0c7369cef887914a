"""Demo usage for the demo contracts (and, once cases exist, one case in each main state).

Breaches' part of `seed_demo`, run after licensing's. Everything goes through the services, as a
licence server's export would: a usage report for the last 60 days. Safe to run twice: the demo
report is sent once.
"""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from breaches.models import UsageFigure, UsageReport
from breaches.services import usage_report_create
from licensing.models import Contract, Entitlement

DAYS = 90
USAGE_REASON = "Demo: nightly licence server export"
METRIC_OF_KIND = {
    Entitlement.Kind.SEAT_POOL: UsageFigure.Metric.SEATS_IN_USE,
    Entitlement.Kind.PRODUCT_KEY: UsageFigure.Metric.INSTALLATIONS,
    Entitlement.Kind.API_QUOTA: UsageFigure.Metric.API_CALLS,
}
IN_USE = [Entitlement.State.ACTIVE, Entitlement.State.GRACE, Entitlement.State.HELD,
          Entitlement.State.SUSPENDED, Entitlement.State.RESTORED]  # fmt: skip


def demo_entitlements():
    """The entitlements a licence server reports on: in use, under an active contract."""
    return (
        Entitlement.objects.filter(
            state__in=IN_USE, kind__in=list(METRIC_OF_KIND),
            contract__status=Contract.Status.ACTIVE,
        )
        .select_related("contract__customer")
        .order_by("contract__number", "pk")
    )  # fmt: skip


def steady_usage(rng: random.Random, entitlement: Entitlement, days: list) -> dict:
    """Daily figures that stay within the entitlement: 60-95 % of it, a little noise."""
    quantity = entitlement.quantity
    if entitlement.kind == Entitlement.Kind.API_QUOTA:
        # A monthly quota reported as calls per day: a thirtieth of it, give or take.
        base = quantity // 30
        return {day: max(0, base * rng.randint(55, 95) // 100) for day in days}
    level = rng.randint(60, 90)
    figures = {}
    for day in days:
        level = min(95, max(50, level + rng.randint(-3, 3)))
        weekend = day.weekday() >= 5
        figures[day] = max(0, quantity * (level - (15 if weekend else 0)) // 100)
    return figures


class Command(BaseCommand):
    help = "Create demo usage for the demo contracts (idempotent)."

    def handle(self, *args, **options):
        if UsageReport.objects.filter(reason=USAGE_REASON).exists():
            self.stdout.write("Breaches: demo usage already present.")
            return
        with transaction.atomic():
            count = self._usage()
        self.stdout.write(f"Breaches: {count:,} usage figures for the last {DAYS} days.")

    def _usage(self) -> int:
        manager = get_user_model().objects.get(username="manager")
        rng = random.Random(2611)
        today = timezone.localdate()
        days = [today - timedelta(days=n) for n in range(DAYS, 0, -1)]
        rows = []
        for entitlement in demo_entitlements():
            window = [d for d in days if entitlement.starts_on <= d < entitlement.ends_on]
            metric = METRIC_OF_KIND[entitlement.kind]
            for day, quantity in steady_usage(rng, entitlement, window).items():
                rows.append({"entitlement": entitlement.pk, "date": day.isoformat(),
                             "metric": metric, "quantity": quantity})  # fmt: skip
        if not rows:
            return 0
        report = usage_report_create(actor=manager, on=today, rows=rows, reason=USAGE_REASON)
        return report.figures
