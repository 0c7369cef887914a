"""Chart.js configurations for usage charts: plain data that static/js/charts.js draws.

Pure: series and levels in, a JSON-ready dict out. Levels that are not whole numbers (a tolerance
of 1.25 on 50 seats) go out as strings, which Chart.js parses as numbers, so no float is made.
"""

from datetime import date
from decimal import Decimal

from .models import UsageFigure

COLOURS = {
    UsageFigure.Metric.SEATS_IN_USE: "#2f5bd3",
    UsageFigure.Metric.API_CALLS: "#7a5af8",
    UsageFigure.Metric.INSTALLATIONS: "#0e9384",
}
ENTITLED = "#067647"
TOLERANCE = "#b54708"


def _number(value) -> int | str:
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else str(value.normalize())


def usage_chart(
    *,
    days: list[date],
    by_metric: dict[str, dict[date, int]],
    entitled: int,
    unit: str,
    allowed: Decimal | None = None,
    highlight: tuple[date, date] | None = None,
) -> dict:
    """Daily figures per metric as lines, the entitled quantity as a flat line and, where it
    differs, the level above which use counts as over (`allowed`). `highlight` (first and last
    day of a run over) draws those days' points larger."""
    labels = [f"{day:%-d %b}" for day in days]
    datasets = []
    for metric, label in UsageFigure.Metric.choices:
        figures = by_metric.get(metric)
        if not figures:
            continue
        colour = COLOURS[metric]
        dataset = {
            "label": label,
            "data": [figures.get(day) for day in days],
            "borderColor": colour,
            "backgroundColor": colour,
            "borderWidth": 2,
            "pointRadius": 2,
            "pointStyle": "circle",
            "tension": 0,
            "spanGaps": False,
        }
        if highlight:
            first, last = highlight
            dataset["pointRadius"] = [4 if first <= day <= last else 2 for day in days]
        datasets.append(dataset)
    datasets.append(_level(f"Entitled: {entitled:,} {unit}", entitled, len(days), ENTITLED, [6, 4]))
    if allowed is not None and Decimal(allowed) != Decimal(entitled):
        text = f"{Decimal(allowed).normalize():,f}"
        datasets.append(_level(f"Counted as over above {text}", allowed, len(days), TOLERANCE,
                               [2, 3]))  # fmt: skip
    return {
        "type": "line",
        "data": {"labels": labels, "datasets": datasets},
        "options": {
            "interaction": {"mode": "index", "intersect": False},
            "plugins": {
                "legend": {"position": "bottom", "labels": {"usePointStyle": True, "boxWidth": 24}}
            },
            "scales": {
                # Figures are whole numbers: no 2.5 installations on the axis.
                "y": {
                    "beginAtZero": True,
                    "ticks": {"precision": 0},
                    "title": {"display": True, "text": unit},
                },
                "x": {"ticks": {"maxRotation": 0, "autoSkip": True, "autoSkipPadding": 16}},
            },
        },
    }


def _level(label: str, value, count: int, colour: str, dash: list[int]) -> dict:
    return {
        "label": label,
        "data": [_number(value)] * count,
        "borderColor": colour,
        "backgroundColor": colour,
        "borderDash": dash,
        "borderWidth": 2,
        "pointRadius": 0,
        "pointStyle": "line",
        "fill": False,
    }
