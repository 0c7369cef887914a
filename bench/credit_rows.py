"""Benchmark rows for credits: the proration engine in bulk, and approval under contention."""

import threading
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from time import perf_counter

from django.db import connections
from django.utils import timezone

from .registry import Context, Samples, alternate, benchmark

LINES = 100_000
ATTEMPTS = 50
PERIOD = (date(2026, 3, 1), date(2026, 4, 1), date(2026, 3, 16))


def _seat_lines(count: int):
    from credits.engine import Line

    # Varied amounts and quantities, so no two lines price alike by accident.
    return tuple(
        Line(
            f"l{i}",
            "seat",
            Decimal(1000 + i % 997) + Decimal(i % 100) / 100,
            quantity_before=50 + i % 50,
            quantity_after=i % 50,
        )  # fmt: skip
        for i in range(count)
    )


def _plain_loop(lines) -> Decimal:
    start, end, effective = PERIOD
    days, remaining = (end - start).days, (end - effective).days
    cent, total = Decimal("0.01"), Decimal(0)
    for line in lines:
        released = line.quantity_before - line.quantity_after
        credit = line.amount_paid * released / line.quantity_before * remaining / days
        total += credit.quantize(cent, rounding=ROUND_HALF_UP)
    return total


@benchmark(
    "quote_lines",
    title=f"quote {LINES:,} seat change lines",
    measured="credits.engine.quote() on one request of 100,000 seat lines: validation, "
    "per-line proration rounded to the minor unit, explanations kept (rendered when read)",
    baseline="a plain Python loop of the same formula on Decimal with the same half-up "
    "rounding, summing the credits",
    target=2,
)
def quote_lines(ctx: Context) -> Samples:
    from credits.engine import QuoteRequest, quote

    size = ctx.size(LINES, smoke=300)
    lines = _seat_lines(size)
    request = QuoteRequest("USD", "downgrade", *PERIOD, lines)
    times, values = alternate(
        {
            "measured": lambda _: quote(request).total,
            "baseline": lambda _: _plain_loop(lines),
        },
        [None] * (2 * ctx.repeats),
    )
    sample = quote(QuoteRequest("USD", "downgrade", *PERIOD, lines[:3]))
    return Samples(
        times["measured"],
        times["baseline"],
        work=size,
        checks={
            "engine and loop agree on the total": len(set(values["measured"] + values["baseline"]))
            == 1,
            "explanations render": all(
                "released for 16 of 31 days" in line.explanation for line in sample.lines
            ),  # fmt: skip
        },
    )


def _credit_fixture(actor, customer_user, count: int) -> list[int]:
    """`count` pending credits, each on its own contract with this month paid.

    The customer asks from today, as the product lets a customer do (never back-dated), so the
    dates follow the clock rather than the calendar the row was written in.
    """
    from credits.services import change_request_create
    from licensing import services as ls
    from licensing.models import Customer, Plan, Product
    from licensing.pricing.calendar import add_months

    product = Product.objects.get_or_create(sku="BENCH", defaults={"name": "Bench seats"})[0]
    plan = Plan.objects.get_or_create(
        code="BENCH-M", defaults={"name": "Bench monthly", "product": product, "tier": "standard",
                                  "currency": "USD", "billing_cycle": "monthly",
                                  "pricing_model": "per_seat", "unit_price": Decimal("30")},
    )[0]  # fmt: skip
    customer = Customer.objects.get(code="bench-customer")
    today = timezone.localdate()
    month = (today.replace(day=1), add_months(today.replace(day=1), 1))
    credits = []
    for n in range(count):
        contract = ls.contract_create(
            actor=actor, customer=customer, number=f"BENCH-{n:04d}", term_start=month[0],
            term_end=add_months(month[0], 12), lines=[ls.LineSpec(plan=plan, quantity=50)],
        )  # fmt: skip
        ls.contract_transition(actor=actor, contract_id=contract.pk, transition="activate",
                               reason="Signed")  # fmt: skip
        line = contract.lines.get()
        ls.invoice_record(
            actor=actor, contract=contract, number=f"BENCH-INV-{n:04d}", period_start=month[0],
            period_end=month[1], lines=[(line, 50, Decimal("1500.00"))], issued_on=month[0],
            paid_on=month[0],
        )  # fmt: skip
        change = change_request_create(
            actor=customer_user, contract_id=contract.pk, intent="downgrade",
            effective_date=today, lines=[{"contract_line": line.pk, "quantity_after": 20}],
            on=today,
        )  # fmt: skip
        credits.append(change.credit.pk)
    return credits


def _race(credit_id: int, approvers) -> tuple[float, int]:
    """Release every approver at once; seconds until all are done, and how many issued."""
    from credits.models import Credit
    from credits.services import credit_approve

    barrier = threading.Barrier(len(approvers) + 1)
    issued = []

    def attempt(user):
        barrier.wait()
        try:
            credit = credit_approve(actor=user, credit_id=credit_id)
            if credit.status == Credit.Status.ISSUED:
                issued.append(credit.number)
        except Exception:  # noqa: BLE001, S110 - the losers' refusals are the expected outcome
            pass
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(u,)) for u in approvers]
    for thread in threads:
        thread.start()
    start = perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join()
    return perf_counter() - start, len(issued)


@benchmark(
    "approve_race",
    title=f"approve one credit, {ATTEMPTS} at once",
    measured=f"{ATTEMPTS} threads, each its own PostgreSQL connection and finance analyst, "
    "call credits.services.credit_approve on one pending credit at the same moment; the time "
    "until all have answered (row locks make exactly one issue it)",
    baseline="one credit_approve call on an identical credit with nobody else trying",
)
def approve_race(ctx: Context) -> Samples:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from credits.models import Credit
    from licensing.models import Customer, CustomerMembership
    from licensing.roles import Role

    actor = ctx.actor()
    User = get_user_model()
    customer = Customer.objects.get_or_create(code="bench-customer",
                                              defaults={"name": "Bench Customer"})[0]  # fmt: skip
    requester = User.objects.get_or_create(username="bench-customer-user")[0]
    requester.groups.add(Group.objects.get(name=Role.CUSTOMER))
    CustomerMembership.objects.get_or_create(user=requester, customer=customer)
    analysts = []
    for n in range(ctx.size(ATTEMPTS, smoke=3)):
        user = User.objects.get_or_create(username=f"bench-analyst-{n:02d}")[0]
        user.groups.add(Group.objects.get(name=Role.FINANCE_ANALYST))
        analysts.append(user)
    credit_ids = _credit_fixture(actor, requester, 2 * ctx.repeats)
    ctx.settle()
    raced, alone = credit_ids[: ctx.repeats], credit_ids[ctx.repeats :]
    issued_counts = []

    def contended(credit_id):
        seconds, issued = _race(credit_id, analysts)
        issued_counts.append(issued)
        return seconds

    from credits.services import credit_approve

    measured, baseline = [], []
    for race_id, alone_id in zip(raced, alone, strict=True):
        measured.append(contended(race_id))
        start = perf_counter()
        credit_approve(actor=analysts[0], credit_id=alone_id)
        baseline.append(perf_counter() - start)
    statuses = set(Credit.objects.filter(pk__in=credit_ids).values_list("status", flat=True))
    return Samples(
        measured,
        baseline,
        work=1,
        checks={
            "exactly one of each race issued": issued_counts == [1] * len(raced),
            "every credit ends issued": statuses == {Credit.Status.ISSUED},
        },
    )
