"""Usage written as a licence server would send it: through the usage report service."""

from datetime import date

from django.utils import timezone

from breaches.services import usage_report_create


def report_usage(actor, entitlement, figures: dict[date, int], *, metric: str = "seats_in_use",
                 reason: str = "Licence server export"):  # fmt: skip
    """One report of daily figures for one entitlement and metric, sent today."""
    rows = [
        {"entitlement": entitlement.pk, "date": day.isoformat(), "metric": metric,
         "quantity": quantity}
        for day, quantity in sorted(figures.items())
    ]  # fmt: skip
    return usage_report_create(actor=actor, on=timezone.localdate(), rows=rows, reason=reason)


def daily(start: date, *quantities: int) -> dict[date, int]:
    """Consecutive days from `start` with these figures."""
    from datetime import timedelta

    return {start + timedelta(days=n): q for n, q in enumerate(quantities)}
