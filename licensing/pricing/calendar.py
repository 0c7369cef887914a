"""Billing calendars: cycles, month arithmetic, the period containing a day and its fractions."""

from dataclasses import dataclass
from datetime import date

from .arithmetic import ProrationError

CYCLE_MONTHS = {"monthly": 1, "quarterly": 3, "annual": 12}


@dataclass(frozen=True, slots=True)
class Period:
    """A billing period split at a change's effective date, in whole days."""

    days: int
    elapsed: int
    remaining: int


def period_of(start: date, end: date, effective: date) -> Period:
    if end <= start:
        raise ProrationError("period_end", "The period must end after it starts.")
    if not start <= effective <= end:
        raise ProrationError(
            "effective_date",
            f"The effective date must fall within the period [{start:%Y-%m-%d}, {end:%Y-%m-%d}].",
        )
    return Period((end - start).days, (effective - start).days, (end - effective).days)


def overuse_days(start: date, end: date, overuse_start: date) -> tuple[int, int]:
    """(days over, days in the period): over-use counts from the start of its first day."""
    if end <= start:
        raise ProrationError("period_end", "The period must end after it starts.")
    if not start <= overuse_start < end:
        raise ProrationError(
            "overuse_start",
            f"Must fall within the period [{start:%Y-%m-%d}, {end:%Y-%m-%d}).",
        )
    return (end - overuse_start).days, (end - start).days


def add_months(day: date, months: int) -> date:
    """Same day-of-month `months` later, clamped to the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def billing_period(anchor: date, cycle: str, on: date) -> tuple[date, date]:
    """The billing period [start, end) that contains `on`, counted from the anchor."""
    months = CYCLE_MONTHS[cycle]
    if on < anchor:
        raise ProrationError("effective_date", "The date falls before billing began.")
    steps = ((on.year - anchor.year) * 12 + on.month - anchor.month) // months
    start = add_months(anchor, steps * months)
    while start > on:
        steps -= 1
        start = add_months(anchor, steps * months)
    end = add_months(anchor, (steps + 1) * months)
    while end <= on:
        steps += 1
        start, end = end, add_months(anchor, (steps + 1) * months)
    return start, end
