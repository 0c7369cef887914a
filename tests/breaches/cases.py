"""Breach cases for page tests, made as detection leaves them (the evidence snapshot), with
their timeline's first entry. Moves through the lifecycle go through the services."""

from datetime import date, timedelta

from django.utils import timezone

from breaches.models import BreachCase, CaseEvent
from breaches.policy import breach_policy


def evidence(entitlement, *, first_day: date, daily: list[int], tolerance: str = "1.0") -> dict:
    return {
        "metric": "seats_in_use",
        "quantity": entitlement.quantity,
        "tolerance": tolerance,
        "peak": max(daily),
        "first_day_over": first_day.isoformat(),
        "last_day_over": (first_day + timedelta(days=len(daily) - 1)).isoformat(),
        "days_over": len(daily),
        "daily": [
            {"day": (first_day + timedelta(days=n)).isoformat(), "quantity": q}
            for n, q in enumerate(daily)
        ],
        "entitlement": {"name": entitlement.name, "quantity": entitlement.quantity},
        "runs": [],
    }


def opened_case(
    entitlement, *, owner=None, first_day: date | None = None, daily: list[int] | None = None,
    severity: str = "medium", detected_on: date | None = None, state: str = "detected",
) -> BreachCase:  # fmt: skip
    today = timezone.localdate()
    first_day = first_day or today - timedelta(days=10)
    daily = daily or [entitlement.quantity + 10] * 3
    case = BreachCase.objects.create(
        entitlement=entitlement, state=state, policy=breach_policy(today), metric="seats_in_use",
        evidence=evidence(entitlement, first_day=first_day, daily=daily), severity=severity,
        detected_on=detected_on or first_day + timedelta(days=len(daily)), owner=owner,
    )  # fmt: skip
    CaseEvent.objects.create(
        case=case, kind=CaseEvent.Kind.DETECTED, action="detect", to_state=state,
        summary=f"Detected: {max(daily)} seats in use against {entitlement.quantity} entitled.",
    )  # fmt: skip
    return case
