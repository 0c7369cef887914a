"""The credit engine: a change request priced line by line under a policy's rules.

Pure functions on `Decimal` (no database), built on licensing's proration arithmetic, calendar
and wording; what is credit-only lives here: intents, the policy's rules (termination, minimum
credit, prepaid refunds), earlier credits, payout schedules and approval thresholds.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from licensing.pricing.arithmetic import (
    BASES,
    ONE,
    ZERO,
    ProrationError,
    allocate,
    allocation_weights,
    minor_unit,
    round_money,
    round_to_unit,
    seat_value,
    usage_consumed,
    usage_value,
)
from licensing.pricing.calendar import Period, period_of
from licensing.pricing.wording import Text, fraction_text, money_text, render

INTENTS = ("downgrade", "pause", "terminate")

TERMINATION_RELEASES_ALL = "A termination releases everything: omit quantity_after or use 0."
PAUSE_STOPS_ALL = "A pause stops the whole line: omit quantity_after."


@dataclass(frozen=True, slots=True)
class Component:
    id: str
    standalone_price: Decimal
    quantity_before: int
    quantity_after: int | None = None
    # The quantity the payment bought, when earlier changes already released some of it.
    quantity_paid: int | None = None


@dataclass(frozen=True, slots=True)
class Line:
    id: str
    basis: str
    amount_paid: Decimal
    quantity_before: int | None = None
    quantity_after: int | None = None
    # The quantity the payment bought, when earlier changes already released some of it.
    quantity_paid: int | None = None
    included_units: int | None = None
    units_used: int | None = None
    components: tuple[Component, ...] = ()
    # Credits already issued against this paid period of this line.
    already_credited: Decimal = ZERO
    # Paid for whole periods after this one (prepaid and multi-year terms).
    prepaid_future_amount: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class QuoteRequest:
    currency: str
    intent: str
    period_start: date
    period_end: date
    effective_date: date
    lines: tuple[Line, ...]
    # A pause's first day back (exclusive end of the pause); only a pause has one.
    resume_date: date | None = None


@dataclass(frozen=True, slots=True)
class Rules:
    """The parts of a credit policy version that the arithmetic needs."""

    termination: str = "prorate"  # or "period_end": nothing back for the current period
    prepaid_refundable_share: Decimal = ONE
    minimum_credit: Decimal = ZERO


DEFAULT_RULES = Rules()


class ComponentQuote(NamedTuple):
    id: str
    credit: Decimal
    explain: Text
    allocated: Decimal = ZERO

    @property
    def explanation(self) -> str:
        return render(self.explain)


class LineQuote(NamedTuple):
    # A named tuple of numbers and strings: cheap to build, ignored by the garbage collector.
    id: str
    basis: str
    credit: Decimal
    explain: Text
    components: tuple[ComponentQuote, ...] = ()

    @property
    def explanation(self) -> str:
        return render(self.explain)


class QuoteLines(Sequence):
    """The priced lines of a quote. Credits are computed up front; a plain seat line's
    LineQuote is built when it is read, so a quote of 100,000 lines holds 100,000 Decimals
    rather than 300,000 objects for the garbage collector to walk."""

    __slots__ = ("_source", "_credits", "_general", "_remaining", "_days", "_currency")

    def __init__(self, source, credits, general, remaining, days, currency):
        self._source, self._credits, self._general = source, credits, general
        self._remaining, self._days, self._currency = remaining, days, currency

    def __len__(self) -> int:
        return len(self._credits)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        priced = self._general.get(index % len(self) if index < 0 else index)
        if priced is not None:
            return priced
        line, credit = self._source[index], self._credits[index]
        paid = line.quantity_paid or line.quantity_before
        released = line.quantity_before - line.quantity_after
        text = (released, paid, "seats", self._remaining, self._days, line.amount_paid, credit,
                self._currency)  # fmt: skip
        return LineQuote(line.id, "seat", credit, ("seat", text))

    def __eq__(self, other) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None


@dataclass(frozen=True, slots=True)
class Quote:
    currency: str
    intent: str
    lines: Sequence[LineQuote]
    total: Decimal
    notes: tuple[str, ...] = field(default_factory=tuple)


def termination_problem(intent: str, after: int | None) -> str | None:
    """The one rule "a termination releases everything", asked by the engine, quoting and
    the API's serializers before they accept a quantity after."""
    if intent == "terminate" and after not in (None, 0):
        return TERMINATION_RELEASES_ALL
    if intent == "pause" and after is not None:
        return PAUSE_STOPS_ALL
    return None


def after_for(intent: str, value: int | None, field_name: str = "quantity_after") -> int | None:
    """What remains after the change: nothing after a termination or during a pause, and what
    a downgrade says (None while it says nothing)."""
    problem = termination_problem(intent, value)
    if problem:
        raise ProrationError(field_name, problem)
    if intent in ("terminate", "pause"):
        return 0
    return value


def _quantity_after(intent: str, value: int | None, field_name: str) -> int:
    after = after_for(intent, value, field_name)
    if after is None:
        raise ProrationError(field_name, "Say how many remain after the downgrade.")
    return after


def apply_minimum_credit(
    total: Decimal, minimum: Decimal, currency: str
) -> tuple[Decimal, tuple[str, ...]]:
    """The policy's minimum credit, for a whole request: a smaller total is not due."""
    if 0 < total < minimum:
        note = (
            f"The total {money_text(total, currency)} is below the policy's minimum "
            f"credit of {money_text(minimum, currency)}, so none is due."
        )
        return round_money(ZERO, currency), (note,)
    return round_money(total, currency), ()


def _seat_credit(
    *,
    amount: Decimal,
    before: int,
    after: int,
    paid: int,
    remaining: int,
    days: int,
    currency: str,
    noun: str,
) -> tuple[Decimal, Text]:
    released = before - after
    if released == 0 or amount == 0 or remaining == 0:
        reason = (
            "nothing is released" if released == 0
            else "nothing was paid" if amount == 0
            else "no days remain in the period"
        )  # fmt: skip
        return round_money(ZERO, currency), f"No credit: {reason}."
    credit = round_money(seat_value(amount, released, paid, remaining, days), currency)
    return credit, ("seat", (released, paid, noun, remaining, days, amount, credit, currency))


def paused_days(request: QuoteRequest) -> int:
    """Days of the period the pause stops: from its effective date until it resumes or the
    period ends, whichever comes first."""
    return (min(request.resume_date, request.period_end) - request.effective_date).days


def _pause_line(line: Line, request: QuoteRequest, period: Period) -> LineQuote:
    """A pause stops the whole line for `paused_days` of the period's days: every seat, every
    bundle component, and of a usage commitment no more than what is left unused."""
    currency, days = request.currency, period.days
    paused = paused_days(request)
    resume = f"{request.resume_date:%-d %b %Y}"
    stopped = f"paused for {paused} of {days} days (until {resume})"
    if line.basis == "seat":
        credit = round_money(line.amount_paid * paused / days, currency)
        text = (
            f"The whole line is {stopped}: {money_text(line.amount_paid, currency)} × "
            f"{fraction_text(paused, days)} = {money_text(credit, currency)}."
        )
        return LineQuote(line.id, line.basis, credit, text)
    if line.basis == "usage":
        unused = ONE - Decimal(line.units_used) / Decimal(line.included_units)
        share = max(ZERO, min(Decimal(paused) / Decimal(days), unused))
        credit = round_money(line.amount_paid * share, currency)
        if share == ZERO:
            text = (
                f"No credit: {line.units_used:,} of {line.included_units:,} units are used, so "
                f"the commitment is used up."
            )
        else:
            left = line.included_units - min(line.units_used, line.included_units)
            text = (
                f"The commitment is {stopped}; the credit is the smaller of the paused share "
                f"({fraction_text(paused, days)}) and the unused units "
                f"({fraction_text(left, line.included_units)}): "
                f"{money_text(line.amount_paid, currency)} × {share * 100:.2f}% = "
                f"{money_text(credit, currency)}."
            )
        return LineQuote(line.id, line.basis, credit, text)
    weights = _bundle_weights(line)
    total_weight = sum(weights, ZERO)
    if total_weight == 0:
        raise ProrationError("components", "A bundle needs a component with a price.")
    quotes = []
    for component, weight in zip(line.components, weights, strict=True):
        allocated = allocate(line.amount_paid, weight, total_weight)
        credit = round_money(allocated * paused / days, currency)
        text = (
            f"{component.id} carries {money_text(round_money(allocated, currency), currency)} "
            f"of the bundle's {money_text(line.amount_paid, currency)}, {stopped}: "
            f"× {fraction_text(paused, days)} = {money_text(credit, currency)}."
        )
        quotes.append(ComponentQuote(component.id, credit, text, allocated))
    credit = sum((q.credit for q in quotes), ZERO)
    text = (
        f"The whole bundle is {stopped}; the credit is the sum of its components' credits: "
        f"{money_text(credit, currency)}."
    )
    return LineQuote(line.id, line.basis, credit, text, tuple(quotes))


def _line_current(line: Line, request: QuoteRequest, period: Period) -> LineQuote:
    currency, remaining = request.currency, period.remaining
    if request.intent == "pause":
        return _pause_line(line, request, period)
    if line.basis == "seat":
        before = line.quantity_before
        after = _quantity_after(request.intent, line.quantity_after, "quantity_after")
        paid = line.quantity_paid or before
        credit, text = _seat_credit(
            amount=line.amount_paid, before=before, after=after, paid=paid,
            remaining=remaining, days=period.days, currency=currency, noun="seats",
        )  # fmt: skip
        return LineQuote(line.id, line.basis, credit, text)
    if line.basis == "usage":
        used_share, time_share = usage_consumed(
            line.units_used, line.included_units, period.elapsed, period.days
        )
        credit = round_money(usage_value(line.amount_paid, max(used_share, time_share)), currency)

        def text() -> str:
            if used_share >= time_share:
                basis = (
                    f"{line.units_used:,} of {line.included_units:,} units used "
                    f"({fraction_text(line.units_used, line.included_units)})"
                )
                unused = line.included_units - min(line.units_used, line.included_units)
                share = fraction_text(unused, line.included_units)
            else:
                basis = f"{period.elapsed} of {period.days} days elapsed"
                share = fraction_text(period.remaining, period.days)
            if not credit:
                return f"No credit: {basis}, so the commitment is used up."
            return (
                f"The whole commitment is released; {basis} is the larger share consumed: "
                f"{money_text(line.amount_paid, currency)} × {share} = "
                f"{money_text(credit, currency)}."
            )

        return LineQuote(line.id, line.basis, credit, text)
    return _bundle_current(line, request, period)


def _bundle_weights(line: Line) -> list[Decimal]:
    # Allocated by what was paid for, so a second downgrade in one period splits as the first.
    return allocation_weights(
        (c.standalone_price, c.quantity_paid or c.quantity_before) for c in line.components
    )


def _bundle_current(line: Line, request: QuoteRequest, period: Period) -> LineQuote:
    currency = request.currency
    weights = _bundle_weights(line)
    total_weight = sum(weights, ZERO)
    if total_weight == 0:
        raise ProrationError("components", "A bundle needs a component with a price.")
    quotes = []
    for component, weight in zip(line.components, weights, strict=True):
        allocated = allocate(line.amount_paid, weight, total_weight)
        after = _quantity_after(request.intent, component.quantity_after, "quantity_after")
        credit, text = _seat_credit(
            amount=allocated, before=component.quantity_before, after=after,
            paid=component.quantity_paid or component.quantity_before,
            remaining=period.remaining, days=period.days, currency=currency, noun="units",
        )  # fmt: skip

        def explain(component=component, allocated=allocated, text=text) -> str:
            return (
                f"{component.id} carries "
                f"{money_text(round_money(allocated, currency), currency)} of the bundle's "
                f"{money_text(line.amount_paid, currency)} (standalone "
                f"{money_text(component.standalone_price, currency)} × "
                f"{component.quantity_before}). {render(text)}"
            )

        quotes.append(ComponentQuote(component.id, credit, explain, allocated))
    credit = sum((q.credit for q in quotes), ZERO)

    def text() -> str:
        return (
            f"Bundle price allocated to its components by standalone value; "
            f"the credit is the sum of their credits: {money_text(credit, currency)}."
        )

    return LineQuote(line.id, line.basis, credit, text, tuple(quotes))


def _line_quote(line: Line, request: QuoteRequest, period: Period, rules: Rules) -> LineQuote:
    currency = request.currency
    if request.intent == "terminate" and rules.termination == "period_end":
        current = LineQuote(
            line.id, line.basis, ZERO,
            "The policy credits a termination only from the end of the current billing "
            "period, so nothing is credited for it.",
        )  # fmt: skip
    else:
        current = _line_current(line, request, period)
    credit, parts = current.credit, [current.explain]
    if line.prepaid_future_amount > 0 and request.intent != "pause":
        future = _future_prepaid(line, request, rules)
        credit += future[0]
        parts.append(future[1])
    if not line.already_credited and not line.prepaid_future_amount and credit <= line.amount_paid:
        return LineQuote(line.id, line.basis, credit, parts[0], current.components)
    ceiling = max(ZERO, line.amount_paid + line.prepaid_future_amount - line.already_credited)
    if line.already_credited > 0 or credit > ceiling:
        earlier = line.already_credited
        if credit > ceiling:
            parts.append(
                lambda: (
                    f"Earlier credits of {money_text(earlier, currency)} leave "
                    f"{money_text(ceiling, currency)} creditable, so the credit is capped there."
                )
            )
            credit = round_money(ceiling, currency)
        else:
            parts.append(
                lambda: (
                    f"Earlier credits of {money_text(earlier, currency)} on this "
                    f"period are taken into account."
                )
            )
    credit = round_money(credit, currency)
    if len(parts) == 1:
        return LineQuote(line.id, line.basis, credit, parts[0], current.components)
    return LineQuote(line.id, line.basis, credit, lambda: " ".join(render(p) for p in parts),
                     current.components)  # fmt: skip


def _future_prepaid(line: Line, request: QuoteRequest, rules: Rules) -> tuple[Decimal, str]:
    currency, share = request.currency, rules.prepaid_refundable_share
    if line.basis == "seat":
        before = line.quantity_before
        after = _quantity_after(request.intent, line.quantity_after, "quantity_after")
        paid = line.quantity_paid or before
        released = Decimal(before - after) / Decimal(paid)
        label = f"{before - after}/{paid} of it released"
    elif line.basis == "bundle":
        weights = _bundle_weights(line)
        freed = sum(
            (
                weight * (c.quantity_before - _quantity_after(request.intent, c.quantity_after,
                                                              "quantity_after"))
                / (c.quantity_paid or c.quantity_before)
                for c, weight in zip(line.components, weights, strict=True)
            ),
            ZERO,
        )  # fmt: skip
        released = freed / sum(weights, ZERO)
        label = f"{released * 100:.2f}% of its value released"
    else:
        released, label = ONE, "all of it released"
    credit = round_money(line.prepaid_future_amount * released * share, currency)
    text = (
        f"Prepaid future periods: {money_text(line.prepaid_future_amount, currency)}, "
        f"{label}, {share * 100:.0f}% refundable under the policy = "
        f"{money_text(credit, currency)}."
    )
    return credit, text


def validate(request: QuoteRequest) -> None:
    """Raise ProrationError naming the first field no calculation can be made from."""
    _validate_request(request)
    seen = set()
    for line in request.lines:
        _validate_line(request.intent, line, seen)


def _validate_request(request: QuoteRequest) -> Period:
    if request.intent not in INTENTS:
        raise ProrationError("intent", f"Use one of {', '.join(INTENTS)}.")
    if request.intent == "pause":
        if request.resume_date is None:
            raise ProrationError("resume_date", "Say when the line resumes.")
        if request.resume_date <= request.effective_date:
            raise ProrationError("resume_date", "The line resumes after the pause begins.")
    return period_of(request.period_start, request.period_end, request.effective_date)


def _validate_line(intent: str, line: Line, seen: set) -> None:
    if line.id in seen:
        raise ProrationError("lines", f"Line id '{line.id}' appears twice.")
    seen.add(line.id)
    if line.basis not in BASES:
        raise ProrationError("basis", f"Use one of {', '.join(BASES)}.")
    if line.amount_paid < 0:
        raise ProrationError("amount_paid", "An amount cannot be negative.")
    if line.basis == "seat":
        _check_quantities(intent, line.quantity_before, line.quantity_after)
    elif line.basis == "usage":
        if not line.included_units or line.included_units <= 0:
            raise ProrationError("included_units", "Must be more than zero.")
        if line.units_used is None or line.units_used < 0:
            raise ProrationError("units_used", "Cannot be negative.")
    else:
        if not line.components:
            raise ProrationError("components", "A bundle needs its components.")
        for component in line.components:
            if component.standalone_price < 0:
                raise ProrationError("standalone_price", "A price cannot be negative.")
            _check_quantities(intent, component.quantity_before, component.quantity_after)


def _check_quantities(intent: str, before: int | None, after: int | None) -> None:
    if before is None or before <= 0:
        raise ProrationError("quantity_before", "Must be more than zero.")
    after = _quantity_after(intent, after, "quantity_after")
    if after < 0:
        raise ProrationError("quantity_after", "Cannot be negative.")
    if after > before:
        raise ProrationError("quantity_after", "Cannot exceed quantity_before.")


def quote(request: QuoteRequest, rules: Rules = DEFAULT_RULES) -> Quote:
    """Price a change request line by line; each line is rounded once, the total is their sum."""
    period = _validate_request(request)
    currency, intent = request.currency, request.intent
    remaining, days = period.remaining, period.days
    unit = minor_unit(currency)
    # Plain seat lines (the bulk of any large request) take a straight path whose conditions
    # are also its validation; every other line is validated and priced by the general path.
    straight = bool(remaining) and intent not in ("terminate", "pause")
    source = request.lines
    credits: list[Decimal] = []
    general: dict[int, LineQuote] = {}
    append, seen, total = credits.append, set(), ZERO
    for index, line in enumerate(source):
        if straight and line.basis == "seat":
            before, after, amount = line.quantity_before, line.quantity_after, line.amount_paid
            if (
                after is not None
                and before is not None
                and 0 <= after < before
                and amount > 0
                and not line.already_credited
                and not line.prepaid_future_amount
                and line.id not in seen
            ):
                paid = line.quantity_paid or before
                credit = round_to_unit(seat_value(amount, before - after, paid, remaining, days),
                                       unit)  # fmt: skip
                if credit <= amount:
                    seen.add(line.id)
                    append(credit)
                    total += credit
                    continue
        _validate_line(intent, line, seen)
        priced = _line_quote(line, request, period, rules)
        general[index] = priced
        append(priced.credit)
        total += priced.credit
    lines = QuoteLines(source, credits, general, remaining, days, currency)
    total, notes = apply_minimum_credit(total, rules.minimum_credit, currency)
    return Quote(currency, intent, lines, total, notes)


def declining_schedule(total: Decimal, periods: int, currency: str) -> list[Decimal]:
    """Spread a credit over N periods as a declining discount (N, N-1, ... 1 shares).

    Each instalment is rounded; the last absorbs the rounding so the sum equals the total.
    """
    if periods < 1:
        raise ProrationError("periods", "Spread over one period or more.")
    weight_sum = periods * (periods + 1) // 2
    amounts = [
        round_money(total * (periods - i) / weight_sum, currency) for i in range(periods - 1)
    ]
    amounts.append(total - sum(amounts, ZERO))
    return amounts


def approval_roles(amount: Decimal, steps: Sequence[tuple[str, Decimal]]) -> list[str]:
    """The roles that must approve an amount: every step whose threshold it reaches."""
    return [role for role, threshold in steps if amount >= threshold]
