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


# A case on a paid March 2026 seat line, as the example: 50 seats at 31.00 (1,550.00
# paid for March), over-use from 11 March at 60. Staff work it on fixed dates (`on=`).
MARCH = (date(2026, 3, 1), date(2026, 4, 1))
OVER_FROM = date(2026, 3, 11)
ON = date(2026, 3, 14)


def march_contract(customer, *, paid: bool = True, unit_price: str = "31.00", plan=None):
    from tests.support import paid_contract

    return paid_contract(customer, period=MARCH, seats=50, unit_price=unit_price, paid=paid,
                         plan=plan)  # fmt: skip


def march_case(actor, customer, *, peak: int = 60, start: date = OVER_FROM, days: int = 3,
               contract=None, **contract_options) -> BreachCase:  # fmt: skip
    contract = contract or march_contract(customer, **contract_options)
    entitlement = contract.entitlements.get()
    return detected_case(actor, entitlement, start=start, peak=peak, days=days,
                         on=max(ON, start + timedelta(days=days)))  # fmt: skip


def move(actor, case: BreachCase, *transitions: str, on: date = ON, **kwargs) -> BreachCase:
    """Take the case through the moves, one service call each."""
    from breaches.services import breach_case_transition

    for transition in transitions:
        case = breach_case_transition(
            actor=actor, case_id=case.pk, transition=transition, reason=f"Test: {transition}",
            on=on, **(kwargs if transition == "agree" else {}),
        )  # fmt: skip
    return case


def current_case(actor, customer, *, peak: int = 60) -> BreachCase:
    """A case on a 50-seat line whose monthly period began 15 days ago (paid), over-use on the
    three days from 10 days ago, detected today: for tests that move the clock on."""
    from django.utils import timezone

    from licensing.pricing.calendar import add_months
    from tests.support import paid_contract

    today = timezone.localdate()
    start = today - timedelta(days=15)
    contract = paid_contract(customer, period=(start, add_months(start, 1)), seats=50,
                             unit_price="31.00")  # fmt: skip
    return detected_case(actor, contract.entitlements.get(), start=today - timedelta(days=10),
                         peak=peak, on=today)  # fmt: skip
