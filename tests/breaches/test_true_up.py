"""The true-up arithmetic: scenario tables, and hypothesis for its properties.

A true-up is the seat credit run the other way, so a true-up followed by a downgrade back to the
entitled quantity on the same date nets to zero, up to one rounding on each side.
"""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from breaches.engine import TrueUpLine, true_up_quote
from credits.engine import Line, QuoteRequest, quote
from licensing.money import minor_unit
from licensing.pricing.arithmetic import ProrationError, true_up_charge
from licensing.pricing.calendar import overuse_days as true_up_days

MARCH = (date(2026, 3, 1), date(2026, 4, 1))

SCENARIOS = [
    # currency, amount_paid, quantity, peak, overuse_start, charge
    ("USD", "1550.00", 50, 60, date(2026, 3, 11), "210.00"),  # the example
    ("USD", "1550.00", 50, 50, date(2026, 3, 11), "0.00"),  # at the quantity: nothing
    ("USD", "1550.00", 50, 40, date(2026, 3, 11), "0.00"),  # below it: nothing
    ("USD", "1550.00", 50, 100, date(2026, 3, 1), "1550.00"),  # double, the whole period
    ("USD", "1550.00", 50, 51, date(2026, 3, 31), "1.00"),  # one seat, the last day
    ("USD", "100.00", 3, 4, date(2026, 3, 2), "32.26"),  # 100/3 × 30/31 = 32.258… rounds up
    ("JPY", "31000", 10, 11, date(2026, 3, 16), "1600"),  # no minor unit
    ("KWD", "31.000", 10, 11, date(2026, 3, 17), "1.500"),  # three minor digits
    ("USD", "0.00", 10, 20, date(2026, 3, 1), "0.00"),  # nothing paid
]


@pytest.mark.parametrize("currency, amount, quantity, peak, start, expected", SCENARIOS)
def test_scenarios(currency, amount, quantity, peak, start, expected):
    days_over, days = true_up_days(*MARCH, start)

    charge = true_up_charge(
        amount_paid=Decimal(amount), quantity=quantity, peak=peak, days_over=days_over,
        days=days, currency=currency,
    )  # fmt: skip

    assert str(charge) == expected


def test_a_quote_rounds_each_line_once_and_sums_the_rounded_lines():
    result = true_up_quote(
        currency="USD", period_start=MARCH[0], period_end=MARCH[1],
        overuse_start=date(2026, 3, 2),
        lines=(TrueUpLine("a", Decimal("100.00"), 3, 4), TrueUpLine("b", Decimal("100.00"), 3, 4)),
    )  # fmt: skip

    assert [line.charge for line in result.lines] == [Decimal("32.26"), Decimal("32.26")]
    assert result.total == Decimal("64.52")  # not 64.516… rounded to 64.52 by accident


def test_the_explanation_shows_the_numbers_used():
    result = true_up_quote(
        currency="USD", period_start=MARCH[0], period_end=MARCH[1],
        overuse_start=date(2026, 3, 11), lines=(TrueUpLine("seats", Decimal("1550.00"), 50, 60),),
    )  # fmt: skip

    assert result.lines[0].explanation == (
        "10 over the 50 entitled (peak 60) for 21 of 31 days: "
        "USD 1,550.00 × 10/50 × 21/31 = USD 210.00."
    )


@pytest.mark.parametrize(
    "start, end, over, field",
    [
        (MARCH[0], MARCH[0], MARCH[0], "period_end"),
        (MARCH[1], MARCH[0], MARCH[0], "period_end"),
        (MARCH[0], MARCH[1], MARCH[1], "overuse_start"),
        (MARCH[0], MARCH[1], date(2026, 2, 28), "overuse_start"),
    ],
)
def test_days_refuse_an_empty_period_or_overuse_outside_it(start, end, over, field):
    with pytest.raises(ProrationError) as excinfo:
        true_up_days(start, end, over)

    assert excinfo.value.field == field


amounts = st.decimals(min_value=0, max_value=10**7, places=2)
quantities = st.integers(min_value=1, max_value=10_000)
excess = st.integers(min_value=0, max_value=10_000)
offsets = st.integers(min_value=0, max_value=364)
periods = st.integers(min_value=1, max_value=365)


def _charge(amount, quantity, peak, days_over, days, currency="USD"):
    return true_up_charge(
        amount_paid=amount, quantity=quantity, peak=peak, days_over=days_over, days=days,
        currency=currency,
    )  # fmt: skip


@given(amounts, quantities, excess, excess, periods, st.data())
def test_the_charge_is_monotone_in_peak(amount, quantity, more, further, days, data):
    days_over = data.draw(st.integers(min_value=0, max_value=days))

    lower = _charge(amount, quantity, quantity + more, days_over, days)
    higher = _charge(amount, quantity, quantity + more + further, days_over, days)

    assert lower <= higher


@given(amounts, quantities, excess, periods, st.data())
def test_the_charge_is_monotone_in_days_over(amount, quantity, more, days, data):
    fewer = data.draw(st.integers(min_value=0, max_value=days))
    greater = data.draw(st.integers(min_value=fewer, max_value=days))

    assert _charge(amount, quantity, quantity + more, fewer, days) <= _charge(
        amount, quantity, quantity + more, greater, days
    )


@given(amounts, quantities, st.integers(min_value=0, max_value=10_000), periods, st.data())
def test_the_charge_is_zero_when_the_peak_is_within_the_quantity(
    amount, quantity, below, days, data
):
    peak = max(0, quantity - below)
    days_over = data.draw(st.integers(min_value=0, max_value=days))

    assert _charge(amount, quantity, peak, days_over, days) == 0


@given(amounts, quantities, st.integers(min_value=1, max_value=10_000), periods, offsets)
def test_a_true_up_then_a_downgrade_back_on_the_same_date_nets_to_zero(
    amount, quantity, more, length, offset
):
    start = date(2026, 1, 1)
    end = start + timedelta(days=length)
    over = start + timedelta(days=offset % length)
    peak = quantity + more
    days_over, days = true_up_days(start, end, over)
    charge = _charge(amount, quantity, peak, days_over, days)
    # After the true-up the line holds `peak` seats, paid at the same price per seat.
    paid_for_peak = amount * peak / quantity

    credit = quote(
        QuoteRequest(
            currency="USD",
            intent="downgrade",
            period_start=start,
            period_end=end,
            effective_date=over,
            lines=(
                Line("a", "seat", paid_for_peak, quantity_before=peak, quantity_after=quantity),
            ),
        )  # fmt: skip
    ).total

    assert abs(charge - credit) <= minor_unit("USD")
