"""Runs of over-use found in SQL: the gaps-and-islands query detection is built on.

A day is over when its current figure is above `quantity x tolerance` (compared in whole
numbers: figure x 100 > quantity x tolerance x 100, so no fraction is ever rounded) and lies in
the entitlement's period `[starts_on, ends_on)`. Consecutive over days of one entitlement and
metric share `day number - row number`, the island; islands of at least the policy's
consecutive days are runs. One query answers every run with its days, on PostgreSQL and SQLite
alike (only the day number is spelt per database).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import connection

from .models import UsageFigure

# A day as a whole number, so that consecutive days differ by one.
DAY_NUMBER = {
    "postgresql": "(f.day - DATE '2000-01-01')",
    "sqlite": "CAST(julianday(f.day) AS INTEGER)",
}


@dataclass(frozen=True, slots=True)
class Run:
    """Consecutive days over for one entitlement and metric."""

    entitlement_id: int
    metric: str
    first_day: date
    last_day: date
    peak: int
    daily: tuple[tuple[date, int], ...]

    @property
    def days(self) -> int:
        return len(self.daily)

    @property
    def key(self) -> tuple[str, str]:
        return self.metric, self.first_day.isoformat()

    def as_evidence(self) -> dict:
        return {
            "metric": self.metric,
            "first_day_over": self.first_day.isoformat(),
            "last_day_over": self.last_day.isoformat(),
            "days_over": self.days,
            "peak": self.peak,
            "daily": [{"day": day.isoformat(), "quantity": qty} for day, qty in self.daily],
        }


def tolerance_hundredths(tolerance: Decimal) -> int:
    scaled = tolerance * 100
    if scaled != scaled.to_integral_value():
        raise ValueError(f"A tolerance is given in hundredths at most, not {tolerance}.")
    return int(scaled)


def runs_sql(*, filtered: bool) -> str:
    figures = UsageFigure._meta.db_table
    entitlements = UsageFigure._meta.get_field("entitlement").related_model._meta.db_table
    day_number = DAY_NUMBER.get(connection.vendor, DAY_NUMBER["postgresql"])
    only = "AND f.entitlement_id IN (SELECT value FROM ids)" if filtered else ""
    return f"""
        WITH over AS (
            SELECT f.entitlement_id AS ent, f.metric AS metric, f.day AS day,
                   f.quantity AS qty,
                   {day_number} - ROW_NUMBER() OVER (
                       PARTITION BY f.entitlement_id, f.metric ORDER BY f.day
                   ) AS island
            FROM {figures} f
            JOIN {entitlements} e ON e.id = f.entitlement_id
            WHERE f.replaced_at IS NULL
              AND f.day >= e.starts_on AND f.day < e.ends_on
              AND f.quantity * 100 > e.quantity * %(tolerance)s
              {only}
        ),
        islands AS (
            SELECT ent, metric, island FROM over
            GROUP BY ent, metric, island
            HAVING COUNT(*) >= %(days)s
        )
        SELECT o.ent, o.metric, o.day, o.qty
        FROM over o
        JOIN islands i ON i.ent = o.ent AND i.metric = o.metric AND i.island = o.island
        ORDER BY o.ent, o.metric, o.day
    """


def _ids_cte(ids: list[int]) -> tuple[str, dict]:
    # A VALUES list both databases read; parameters, never formatted values.
    names = {f"id{n}": value for n, value in enumerate(ids)}
    rows = ", ".join(f"(%({name})s)" for name in names)
    return f"WITH ids (value) AS (VALUES {rows}), ", names


def overuse_runs(
    *, tolerance: Decimal, consecutive_days: int, entitlement_ids: Iterable[int] | None = None
) -> list[Run]:
    """Every run of over-use within its entitlement's period, however long ago, ordered by
    entitlement, metric and first day. `entitlement_ids` narrows the search."""
    params = {"tolerance": tolerance_hundredths(tolerance), "days": max(1, consecutive_days)}
    sql = runs_sql(filtered=entitlement_ids is not None)
    if entitlement_ids is not None:
        ids = sorted(set(entitlement_ids))
        if not ids:
            return []
        prefix, names = _ids_cte(ids)
        sql = sql.replace("WITH over AS", prefix + "over AS", 1)
        params |= names
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return list(_runs(rows))


def _runs(rows) -> Iterable[Run]:
    current, daily = None, []
    for ent, metric, day, qty in rows:
        day = date.fromisoformat(day) if isinstance(day, str) else day
        if current and current[:2] == (ent, metric) and (day - daily[-1][0]).days == 1:
            daily.append((day, int(qty)))
            continue
        if current:
            yield _run(current, daily)
        current, daily = (ent, metric), [(day, int(qty))]
    if current:
        yield _run(current, daily)


def _run(key, daily) -> Run:
    return Run(
        entitlement_id=key[0], metric=key[1], first_day=daily[0][0], last_day=daily[-1][0],
        peak=max(qty for _, qty in daily), daily=tuple(daily),
    )  # fmt: skip
