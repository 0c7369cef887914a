"""Helpers the breach tests share (pages and API tests too): usage reported through the service,
a case detected from it and moved through the lifecycle by the services."""

from datetime import date, timedelta

from breaches.models import BreachCase
from breaches.services import usage_report_create
from breaches.services.detection import breach_detect


def report_usage(actor, entitlement, figures: dict[date, int], *, metric="seats_in_use",
                 on: date | None = None):  # fmt: skip
    """One report of `{day: quantity}` for one entitlement and metric."""
    rows = [
        {"entitlement": entitlement.pk, "date": day.isoformat(), "metric": metric,
         "quantity": quantity}
        for day, quantity in sorted(figures.items())
    ]  # fmt: skip
    on = on or max(figures) + timedelta(days=1)
    return usage_report_create(actor=actor, on=on, rows=rows)


def days_from(start: date, *quantities: int) -> dict[date, int]:
    """{start: q0, start+1: q1, ...}"""
    return {start + timedelta(days=n): q for n, q in enumerate(quantities)}


def detected_case(actor, entitlement, *, start: date, peak: int | None = None,
                  days: int = 3, on: date | None = None) -> BreachCase:  # fmt: skip
    """Usage over the entitlement for `days` days from `start`, detected into a case."""
    peak = peak if peak is not None else entitlement.quantity + 10
    report_usage(actor, entitlement, days_from(start, *([peak] * days)))
    found = breach_detect(on=on or start + timedelta(days=days))
    return BreachCase.objects.get(pk=(found.opened or found.updated)[0])
