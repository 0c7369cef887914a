"""Reads of usage figures for pages: the daily series of a set of entitlements, in one query."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import QuerySet

from licensing.models import Entitlement

from .models import UsageFigure


@dataclass
class UsageSeries:
    """One entitlement's current figures per metric and day within a window."""

    entitlement: Entitlement
    start: date  # inclusive
    end: date  # inclusive
    by_metric: dict[str, dict[date, int]] = field(default_factory=dict)

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    @property
    def has_figures(self) -> bool:
        return any(self.by_metric.values())

    def metrics(self) -> list[tuple[str, str]]:
        """The metrics reported, in the model's order, with their labels."""
        return [(m, label) for m, label in UsageFigure.Metric.choices if self.by_metric.get(m)]

    def peak(self, metric: str) -> int | None:
        values = self.by_metric.get(metric, {}).values()
        return max(values) if values else None

    def latest(self, metric: str) -> tuple[date, int] | None:
        figures = self.by_metric.get(metric, {})
        if not figures:
            return None
        day = max(figures)
        return day, figures[day]

    def days_above(self, metric: str, level) -> int:
        return sum(1 for value in self.by_metric.get(metric, {}).values() if value > level)


def usage_window(*, on: date, days: int) -> tuple[date, date]:
    """The `days` days up to and including `on`."""
    return on - timedelta(days=days - 1), on


def usage_series(*, entitlements: list[Entitlement], start: date, end: date) -> list[UsageSeries]:
    """The current figures of these entitlements from `start` to `end` (both inclusive), clipped
    to each entitlement's own period, in one query however many entitlements there are."""
    series = {
        e.pk: UsageSeries(e, max(start, e.starts_on), min(end, e.ends_on - timedelta(days=1)))
        for e in entitlements
    }
    if not series:
        return []
    values: dict[int, dict[str, dict[date, int]]] = defaultdict(lambda: defaultdict(dict))
    figures = UsageFigure.objects.filter(
        entitlement_id__in=series, replaced_at__isnull=True, day__range=(start, end)
    ).values_list("entitlement_id", "metric", "day", "quantity")
    for entitlement_id, metric, day, quantity in figures:
        one = series[entitlement_id]
        if one.start <= day <= one.end:
            values[entitlement_id][metric][day] = quantity
    for pk, one in series.items():
        one.by_metric = {metric: dict(days) for metric, days in values[pk].items()}
    return list(series.values())


def entitlements_with_usage(*, base: QuerySet[Entitlement], start: date, end: date):
    """Entitlements that have a current figure in the window, with their contract, by contract
    and name: the portal shows a chart for each of these."""
    reported = UsageFigure.objects.filter(replaced_at__isnull=True, day__range=(start, end)).values(
        "entitlement_id"
    )
    return (
        base.filter(pk__in=reported)
        .select_related("contract")
        .order_by("contract__number", "name", "pk")
    )
