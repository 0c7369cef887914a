"""The governance dashboard: panels that apps register (audit.registry), one page, one CSV.

A panel's `build(on=, since=)` answers for the period [since, on] (dates in the business time
zone) with a dict:
    {"tables": [{"title", "columns": [...], "rows": [[...], ...]}],
     "charts": [{"title", "config": <Chart.js config>}],
     "note": "..."}
Rows are aggregates labelled by currency, step, state or kind: never a customer's or a user's
name. The CSV is the tables in long form (panel, table, row, column, value), so it is anonymised
by construction and reads the same whatever a panel's columns are.
"""

import csv
from collections.abc import Iterator
from datetime import date, timedelta
from statistics import median

from .registry import governance_panels

PERIODS = {30: "the last 30 days", 90: "the last 90 days", 365: "the last 12 months"}
DEFAULT_DAYS = 90


def period_days(raw) -> int:
    try:
        days = int(raw)
    except (TypeError, ValueError):
        return DEFAULT_DAYS
    return days if days in PERIODS else DEFAULT_DAYS


def governance_report(*, on: date, days: int) -> list[dict]:
    since = on - timedelta(days=days)
    report = []
    for n, panel in enumerate(governance_panels()):
        built = panel.build(on=on, since=since)
        # A chart of nothing says nothing: only charts with something to draw are drawn.
        charts = [
            {**chart, "id": f"chart-{n}-{i}"}
            for i, chart in enumerate(built.get("charts", []))
            if chart["config"].get("data", {}).get("labels")
        ]
        report.append({"key": panel.key, "title": panel.title, "tables": built.get("tables", []),
                       "charts": charts, "note": built.get("note", "")})  # fmt: skip
    return report


class _Echo:
    def write(self, value: str) -> str:
        return value


def governance_csv(report: list[dict]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(["panel", "table", "row", "column", "value"])
    for panel in report:
        for table in panel["tables"]:
            label, *measures = table["columns"]
            for row in table["rows"]:
                for column, value in zip(measures, row[1:], strict=True):
                    yield writer.writerow([panel["title"], table["title"], row[0], column, value])


# Helpers for panels.


def hours(seconds: float | None) -> str:
    """A duration in hours with one decimal, as text (no float reaches a page or the CSV)."""
    if seconds is None:
        return "—"
    tenths = round(seconds / 360)
    return f"{tenths // 10}.{tenths % 10}"


def median_seconds(durations: list[float]) -> float | None:
    return median(durations) if durations else None


def bar_chart(labels: list[str], datasets: dict[str, list], *, stacked: bool = False) -> dict:
    return {
        "type": "bar",
        "data": {
            "labels": labels,
            "datasets": [{"label": name, "data": values} for name, values in datasets.items()],
        },
        "options": {
            "scales": {"x": {"stacked": stacked}, "y": {"stacked": stacked, "beginAtZero": True}}
        },
    }
