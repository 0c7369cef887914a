"""The proration engine: scenario tables for the arithmetic, hypothesis for its properties."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from credits.engine import (
    DEFAULT_RULES,
    Component,
    Line,
    QuoteRequest,
    Rules,
    approval_roles,
    declining_schedule,
    quote,
)
from licensing.pricing.arithmetic import ProrationError


def seat(amount, before, after, **kw):
    return Line("l", "seat", D(amount), quantity_before=before, quantity_after=after, **kw)


def one(line, start, end, effective, currency="USD", intent="downgrade", rules=DEFAULT_RULES):
    request = QuoteRequest(currency, intent, start, end, effective, (line,))
    return quote(request, rules).lines[0].credit


def test_the_issue_example_prices_each_line():
    request = QuoteRequest(
        "USD", "downgrade", date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 16),
        (
            seat("1500.00", 50, 20),
            Line("api", "usage", D("1000.00"), included_units=1_000_000, units_used=400_000),
            Line("suite", "bundle", D("900.00"), components=(
                Component("editor", D("20.00"), 10, 5), Component("viewer", D("5.00"), 40, 40),
            )),
        ),
    )  # fmt: skip

    result = quote(request)

    assert [line.credit for line in result.lines] == [D("464.52"), D("516.13"), D("116.13")]
    assert [c.credit for c in result.lines[2].components] == [D("116.13"), D("0.00")]
    assert result.total == D("1096.78")
    assert "30 of 50 seats released for 16 of 31 days" in result.lines[0].explanation


# (amount, before, after, period start, period end, effective, currency, expected credit)
SCENARIOS = [
    # Partial month, mid-cycle.
    ("1500.00", 50, 20, date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 16), "USD", "464.52"),
    # February in a common year (28 days) and in a leap year (29 days).
    ("280.00", 10, 5, date(2026, 2, 1), date(2026, 3, 1), date(2026, 2, 15), "USD", "70.00"),
    ("290.00", 10, 5, date(2028, 2, 1), date(2028, 3, 1), date(2028, 2, 15), "USD", "75.00"),
    # Effective on the first day: everything released is credited in full.
    ("1000.00", 10, 0, date(2026, 5, 1), date(2026, 6, 1), date(2026, 5, 1), "USD", "1000.00"),
    # Effective on the last day of the period: one day remains.
    ("3100.00", 10, 0, date(2026, 5, 1), date(2026, 6, 1), date(2026, 5, 31), "USD", "100.00"),
    # Effective at the exclusive end: nothing remains.
    ("3100.00", 10, 0, date(2026, 5, 1), date(2026, 6, 1), date(2026, 6, 1), "USD", "0.00"),
    # Annual period converted mid-cycle (365 days).
    ("36500.00", 100, 60, date(2026, 1, 1), date(2027, 1, 1), date(2026, 7, 1), "USD", "7360.00"),
    # Zero-decimal, two-decimal and three-decimal currencies, half up at the minor unit.
    ("100000", 3, 2, date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 16), "JPY", "17204"),
    ("100.000", 3, 2, date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 16), "KWD", "17.204"),
    ("100.00", 3, 2, date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 16), "EUR", "17.20"),
    # Unpaid period: nothing was paid, nothing is credited.
    ("0.00", 10, 5, date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 10), "USD", "0.00"),
    # Nothing released.
    ("500.00", 10, 10, date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 10), "USD", "0.00"),
]


@pytest.mark.parametrize(
    ("amount", "before", "after", "start", "end", "effective", "currency", "expected"), SCENARIOS
)
def test_seat_scenarios(amount, before, after, start, end, effective, currency, expected):
    credit = one(seat(amount, before, after), start, end, effective, currency)

    assert credit == D(expected)
    assert credit.as_tuple().exponent == D(expected).as_tuple().exponent


@pytest.mark.parametrize(
    ("used", "effective", "expected"),
    [
        (400_000, date(2026, 3, 16), "516.13"),  # time consumed more than units
        (800_000, date(2026, 3, 16), "200.00"),  # units consumed more than time
        (1_200_000, date(2026, 3, 2), "0.00"),  # over-used: nothing back, never negative
        (0, date(2026, 3, 1), "1000.00"),  # released before any use
    ],
)
def test_usage_line_releases_the_unconsumed_commitment(used, effective, expected):
    line = Line("api", "usage", D("1000.00"), included_units=1_000_000, units_used=used)

    assert one(line, date(2026, 3, 1), date(2026, 4, 1), effective) == D(expected)


def test_termination_releases_everything_and_refuses_a_remaining_quantity():
    start, end, eff = date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 16)
    line = Line("l", "seat", D("1550.00"), quantity_before=50)

    assert one(line, start, end, eff, intent="terminate") == D("800.00")
    with pytest.raises(ProrationError) as error:
        one(seat("1550.00", 50, 10), start, end, eff, intent="terminate")
    assert error.value.field == "quantity_after"


def test_termination_at_period_end_credits_nothing_for_the_current_period():
    rules = Rules(termination="period_end")
    line = Line("l", "seat", D("1550.00"), quantity_before=50)

    credit = one(line, date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 16), intent="terminate",
                 rules=rules)  # fmt: skip

    assert credit == D("0.00")


def test_multi_year_prepaid_refunds_the_policy_share_of_future_years():
    line = Line("l", "seat", D("12000.00"), quantity_before=100, prepaid_future_amount=D("24000"))
    rules = Rules(prepaid_refundable_share=D("0.5"))

    credit = one(line, date(2026, 1, 1), date(2027, 1, 1), date(2026, 7, 2), intent="terminate",
                 rules=rules)  # fmt: skip

    # Current year: 12,000 × 183/365 = 6,016.44; future years: 24,000 × 50% = 12,000.
    assert credit == D("18016.44")


def test_earlier_credits_cap_what_a_period_can_still_give_back():
    line = seat("1000.00", 10, 0, already_credited=D("900.00"))

    assert one(line, date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 1)) == D("100.00")


def test_a_total_below_the_policy_minimum_is_not_due():
    request = QuoteRequest("USD", "downgrade", date(2026, 3, 1), date(2026, 4, 1),
                           date(2026, 3, 30), (seat("31.00", 10, 9),))  # fmt: skip

    result = quote(request, Rules(minimum_credit=D("5.00")))

    assert result.total == D("0") and result.notes


def test_bundle_allocates_by_standalone_value_and_sums_rounded_components():
    line = Line("suite", "bundle", D("100.00"), components=(
        Component("a", D("1.00"), 1, 0), Component("b", D("1.00"), 1, 0),
        Component("c", D("1.00"), 1, 0),
    ))  # fmt: skip

    result = quote(QuoteRequest("USD", "terminate", date(2026, 3, 1), date(2026, 4, 1),
                                date(2026, 3, 1), (line,)))  # fmt: skip

    assert [c.credit for c in result.lines[0].components] == [D("33.33")] * 3
    assert result.lines[0].credit == D("99.99")


@pytest.mark.parametrize(
    ("field", "request_kwargs", "line"),
    [
        ("period_end", {"period_end": date(2026, 3, 1)}, seat("1", 1, 0)),
        ("effective_date", {"effective_date": date(2026, 4, 2)}, seat("1", 1, 0)),
        ("quantity_after", {}, seat("1", 1, 2)),
        ("quantity_before", {}, seat("1", 0, 0)),
        ("amount_paid", {}, seat("-1", 1, 0)),
        ("included_units", {}, Line("u", "usage", D(1), included_units=0, units_used=0)),
        ("basis", {}, Line("x", "flat", D(1))),
        ("intent", {"intent": "upgrade"}, seat("1", 1, 0)),
    ],
)
def test_bad_inputs_name_their_field(field, request_kwargs, line):
    values = {"currency": "USD", "intent": "downgrade", "period_start": date(2026, 3, 1),
              "period_end": date(2026, 4, 1), "effective_date": date(2026, 3, 10),
              "lines": (line,)} | request_kwargs  # fmt: skip

    with pytest.raises(ProrationError) as error:
        quote(QuoteRequest(**values))

    assert error.value.field == field


def test_declining_schedule_declines_and_sums_to_the_total():
    assert declining_schedule(D("100.00"), 3, "USD") == [D("50.00"), D("33.33"), D("16.67")]
    assert sum(declining_schedule(D("1000"), 7, "JPY")) == D("1000")


def test_approval_steps_follow_thresholds():
    steps = [("finance_analyst", D(0)), ("finance_approver", D(1000)),
             ("financial_controller", D(10000))]  # fmt: skip

    assert approval_roles(D("999.99"), steps) == ["finance_analyst"]
    assert approval_roles(D("1000.00"), steps) == ["finance_analyst", "finance_approver"]
    assert len(approval_roles(D("10000"), steps)) == 3


# Properties. Amounts in cents, periods up to a year, any currency digits.

amounts = st.integers(min_value=0, max_value=10_000_000).map(lambda c: D(c) / 100)
currencies = st.sampled_from(["USD", "JPY", "KWD", "EUR"])


@st.composite
def periods(draw):
    start = date(2024, 1, 1) + timedelta(days=draw(st.integers(0, 1500)))
    days = draw(st.integers(1, 366))
    effective = start + timedelta(days=draw(st.integers(0, days)))
    return start, start + timedelta(days=days), effective


def _in_minor_units(cents: D, currency: str) -> D:
    # A paid amount is always whole minor units of its currency.
    return cents.quantize(D(1).scaleb(-{"JPY": 0, "KWD": 3}.get(currency, 2)))


@given(cents=amounts, before=st.integers(1, 5000), data=st.data(), period=periods(),
       currency=currencies)  # fmt: skip
def test_never_more_than_was_paid_for_the_released_remainder(cents, before, data, period,
                                                             currency):  # fmt: skip
    amount = _in_minor_units(cents, currency)
    after = data.draw(st.integers(0, before))
    start, end, effective = period

    credit = one(seat(amount, before, after), start, end, effective, currency)

    released_share = D(before - after) / before * D((end - effective).days) / (end - start).days
    minor = D(1).scaleb(-{"JPY": 0, "KWD": 3}.get(currency, 2))
    assert D(0) <= credit <= amount * released_share + minor / 2
    assert credit <= amount or amount == 0


@given(before=st.integers(1, 500), data=st.data(), period=periods())
def test_zero_when_nothing_was_paid(before, data, period):
    after = data.draw(st.integers(0, before))

    assert one(seat("0", before, after), *period) == 0


@given(amount=amounts, before=st.integers(1, 500), data=st.data(), period=periods())
def test_monotone_in_the_days_remaining(amount, before, data, period):
    after = data.draw(st.integers(0, before))
    start, end, effective = period
    assume(effective < end)

    earlier = one(seat(amount, before, after), start, end, effective)
    later = one(seat(amount, before, after), start, end, effective + timedelta(days=1))

    assert later <= earlier


@given(amount=amounts, before=st.integers(2, 500), data=st.data(), period=periods(),
       currency=currencies)  # fmt: skip
def test_two_downgrades_on_one_date_equal_one_combined(amount, before, data, period, currency):
    amount = _in_minor_units(amount, currency)
    middle = data.draw(st.integers(1, before - 1))
    final = data.draw(st.integers(0, middle))

    first = one(seat(amount, before, middle), *period, currency)
    second = one(seat(amount, middle, final, quantity_paid=before,
                      already_credited=first), *period, currency)  # fmt: skip
    combined = one(seat(amount, before, final), *period, currency)

    minor = D(1).scaleb(-{"JPY": 0, "KWD": 3}.get(currency, 2))
    assert abs((first + second) - combined) <= minor


@given(amount=amounts, before=st.integers(1, 500), period=periods(), data=st.data())
def test_successive_credits_never_exceed_what_was_paid(amount, before, period, data):
    credited = D(0)
    quantity = before
    while quantity > 0:
        after = data.draw(st.integers(0, quantity - 1))
        credited += one(seat(amount, quantity, after, quantity_paid=before,
                             already_credited=credited), *period)  # fmt: skip
        quantity = after

    assert credited <= amount


@given(cents=amounts, before=st.integers(1, 500), data=st.data(), period=periods(),
       currency=currencies)  # fmt: skip
def test_the_straight_seat_path_agrees_with_the_general_one(cents, before, data, period,
                                                            currency):  # fmt: skip
    from credits.engine import _line_quote
    from licensing.pricing.calendar import period_of

    amount = _in_minor_units(cents, currency)
    line = seat(amount, before, data.draw(st.integers(0, before)))
    request = QuoteRequest(currency, "downgrade", *period, (line,))

    fast = quote(request).lines[0]
    general = _line_quote(line, request, period_of(*period), DEFAULT_RULES)

    assert (fast.credit, fast.explanation) == (general.credit, general.explanation)


@given(cents=amounts, data=st.data(), period=periods())
def test_two_bundle_downgrades_on_one_date_equal_one_combined(cents, data, period):
    amount = _in_minor_units(cents, "USD")
    editors = data.draw(st.integers(2, 60))
    middle = data.draw(st.integers(1, editors - 1))
    final = data.draw(st.integers(0, middle))

    def bundle(before, after, credited=D(0)):
        return Line("b", "bundle", amount, already_credited=credited, components=(
            Component("editor", D("20.00"), before, after, quantity_paid=editors),
            Component("viewer", D("5.00"), 40, 40, quantity_paid=40),
        ))  # fmt: skip

    first = one(bundle(editors, middle), *period)
    second = one(bundle(middle, final, first), *period)
    combined = one(bundle(editors, final), *period)

    assert abs((first + second) - combined) <= D("0.01")
