"""Plain-language e-mail templates sent from a case: subject and paragraphs from its facts.

Each template is a function of the case (and optional words of the manager's own); the
communications service sends the result through the outbox and logs exactly what was sent.
"""

from __future__ import annotations

from collections.abc import Callable

from licensing.pricing.wording import money_text

from .mail import metric_words
from .models import BreachCase


def _usage_line(case: BreachCase) -> str:
    ev = case.evidence
    entitlement = case.entitlement
    return (
        f"Between {ev['first_day_over']} and the days after, {entitlement.name} on contract "
        f"{entitlement.contract.number} reached {ev['peak']:,} {metric_words(ev['metric'])} "
        f"against {ev['quantity']:,} {entitlement.unit} entitled, on {ev['days_over']} "
        "consecutive days."
    )


def breach_notice(case: BreachCase) -> tuple[str, list[str]]:
    return (
        f"Usage above your entitlement: {case.entitlement.name}",
        [
            _usage_line(case),
            "We know this usually happens as teams grow. We would like to agree with you how "
            "to bring the licence back in line; nothing changes to your service while we talk.",
        ],
    )


def remediation_proposal(case: BreachCase) -> tuple[str, list[str]]:
    lines = []
    for option in case.options.filter(dropped_at__isnull=True).order_by("pk"):
        text = f"{option.get_kind_display()}: {money_text(option.amount, option.currency)}"
        if option.fees:
            text += f" (plus fees of {money_text(option.fees, option.currency)}, shown apart)"
        lines.append(f"{text}. {option.explanation}")
    return (
        f"Ways back to compliance for {case.entitlement.name}",
        [_usage_line(case), "These are the options we can offer; choose one in the portal.",
         *lines],
    )  # fmt: skip


def milestone_reminder(case: BreachCase, *, milestone=None) -> tuple[str, list[str]]:
    title = milestone.title if milestone else "the next step"
    due = f"{milestone.due_on:%-d %B %Y}" if milestone else "soon"
    return (
        f"Reminder: {title} is due on {due}",
        [f"This is a friendly reminder that {title.lower()} for {case.entitlement.name} is due "
         f"on {due}. Tell us if the date no longer works."],
    )  # fmt: skip


def resolution_confirmation(case: BreachCase) -> tuple[str, list[str]]:
    return (
        f"Resolved: {case.entitlement.name} is back within its entitlement",
        [f"Thank you. The case about {case.entitlement.name} on contract "
         f"{case.entitlement.contract.number} is resolved: usage is back within the "
         f"{case.evidence.get('quantity', case.entitlement.quantity):,} "
         f"{case.entitlement.unit} entitled."],
    )  # fmt: skip


def check_in(case: BreachCase) -> tuple[str, list[str]]:
    return (
        f"Checking in about {case.entitlement.name}",
        [_usage_line(case), "Could we find half an hour to talk it through?"],
    )


TEMPLATES: dict[str, tuple[str, Callable]] = {
    "breach_notice": ("Breach notice", breach_notice),
    "remediation_proposal": ("Remediation proposal", remediation_proposal),
    "milestone_reminder": ("Milestone reminder", milestone_reminder),
    "resolution_confirmation": ("Resolution confirmation", resolution_confirmation),
    "check_in": ("Check-in", check_in),
}
