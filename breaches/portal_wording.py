"""What the customer's timeline says: each entry as a plain sentence about them and us, with
dates as people write them (2 December 2026), never our workflow's names for its moves."""

from __future__ import annotations

from datetime import date

from .mail import metric_words
from .models import BreachCase, CaseEvent, RemediationOption

DATE = "%-d %B %Y"

MOVES = {
    "review": "We started checking the figures against our records. Nothing changes to your "
    "service while we do.",
    "confirm": "We checked the figures with our records and confirmed the use above your "
    "entitlement.",
    "dismiss": "We closed the case: there is nothing to pay and nothing for you to do.",
    "offer": "We offered you ways back to compliance to choose from.",
    "start_remediation": "The option agreed is being carried out.",
    "resolve": "The case is resolved: usage is back within your entitlement.",
    "escalate": "Our account management team has taken the case over; your contact will be in "
    "touch.",
}  # fmt: skip
COMMUNICATIONS = {
    "email": "We e-mailed you: {subject}.",
    "call": "We spoke on the phone: {subject}.",
    "meeting": "We met: {subject}.",
}


def _day(value: str | date | None) -> str:
    if not value:
        return ""
    day = date.fromisoformat(value) if isinstance(value, str) else value
    return f"{day:{DATE}}"


def customer_sentence(event: CaseEvent, case: BreachCase, milestones: dict) -> str:
    """One timeline entry as the customer reads it."""
    K = CaseEvent.Kind
    data = event.data or {}
    if event.kind == K.DETECTED:
        ev, e = case.evidence, case.entitlement
        return (
            f"Our records showed {ev.get('peak', 0):,} {metric_words(case.metric)} against the "
            f"{ev.get('quantity', e.quantity):,} {e.unit} your contract grants, from "
            f"{_day(ev.get('first_day_over'))}, on {ev.get('days_over', 0)} days in a row."
        )
    if event.kind == K.EVIDENCE:
        runs = "; ".join(
            f"{run['days_over']} days from {_day(run['first_day_over'])} (highest {run['peak']:,})"
            for run in data.get("runs", [])
        )
        return f"Our records showed more days above your entitlement: {runs}."
    if event.kind == K.DEPROVISIONING:
        return (
            f"As the final date passed without usage back within the entitlement, "
            f"{case.entitlement.name} was taken back."
        )
    if event.kind == K.AGREEMENT:
        kind = data.get("option", "")
        label = RemediationOption.Kind(kind).label.lower() if kind else "an option"
        who = "You" if event.actor_id and event.actor_id == case.agreed_by_id else "We"
        return f"{who} agreed to the {label}." if who == "You" else f"We recorded the {label}."
    if event.action in MOVES:
        return MOVES[event.action]
    if event.kind == K.MILESTONE:
        milestone = milestones.get(data.get("milestone"))
        title = milestone.title if milestone else "A date"
        if event.action == "milestone_add" and milestone:
            final = " This is the final date." if milestone.is_final else ""
            return f"A date was set: {title} by {milestone.due_on:{DATE}}.{final}"
        if event.action == "milestone_done":
            return f"Done: {title}."
        if event.action == "milestone_overdue" and milestone:
            return f"The date for {title.lower()} ({milestone.due_on:{DATE}}) passed."
    if event.kind == K.COMMUNICATION and event.communication_id:
        entry = event.communication
        return COMMUNICATIONS.get(entry.kind, "{subject}").format(subject=entry.subject)
    if event.kind == K.NOTICE:
        label = event.summary.split(": ", 1)[-1]
        return f"We issued the {label.lower()}; you can download it from this page."
    return event.summary
