"""What a credit's change still has to do in licensing, and what calling a credit off does to it.

A credit is given for a change (seats released, a line paused, ended or moved to a smaller
plan). The change is scheduled in licensing for its effective date, with the source
`credits.change:<id>`, so the two stay together:

- a scheduled part of an issued credit's change is not called off on its own: the customer
  would keep both the credit and what they gave up for it (licensing asks `cancel_guard`);
- a reversal calls the change off with the credit, while nothing of it has taken effect;
- once any part has taken effect the customer has been without what they gave up since its
  date, so taking the whole credit back would bill them for service they did not have: the
  reversal is refused (`reversal_refusal`) and finance corrects the credit or rejects the
  dispute instead.
"""

from datetime import date

from licensing import services as licensing_services
from licensing.models import ScheduledChange

from ..models import Credit

SOURCE_PREFIX = "credits.change:"


def change_source(change_id: int) -> str:
    return f"{SOURCE_PREFIX}{change_id}"


def _credit_of(scheduled: ScheduledChange) -> Credit | None:
    try:
        change_id = int(scheduled.source.removeprefix(SOURCE_PREFIX))
    except ValueError:
        return None
    return Credit.objects.filter(change_id=change_id).first()


def cancel_guard(scheduled: ScheduledChange) -> str | None:
    """Registered with licensing: why this scheduled change may not be called off alone."""
    credit = _credit_of(scheduled)
    if credit is None or credit.status != Credit.Status.ISSUED:
        return None  # no credit rides on it (none was due, or it was reversed)
    return (
        f"{credit.number} was issued for this change: calling the change off alone would leave "
        f"the customer both the credit and what they gave up for it. Uphold a dispute of "
        f"{credit.number} by reversal to call both off."
    )


def _parts(credit: Credit):
    return ScheduledChange.objects.filter(source=change_source(credit.change_id)).order_by(
        "effective_date", "pk"
    )


def reversal_refusal(credit: Credit, parts: list[ScheduledChange] | None = None) -> str | None:
    """Why reversing `credit` would be wrong now: a part of its change already took effect.
    A page that lists the credit's scheduled changes anyway passes them (every state)."""
    if parts is None:
        parts = (
            _parts(credit)
            .filter(state=ScheduledChange.State.APPLIED)
            .select_related("entitlement", "contract_line__plan", "plan_before", "plan_after")
        )
    applied = next((p for p in parts if p.state == ScheduledChange.State.APPLIED), None)
    if applied is None:
        return None
    return (
        f"The change took effect on {applied.effective_date:%-d %b %Y} "
        f"({applied.target_name}: {applied.description}): {credit.customer.name} has been without "
        f"what it gave up since then, so taking the whole credit back would bill for service it "
        f"did not have. Uphold with a corrective credit, or reject the dispute."
    )


def call_off_change(*, credit: Credit, reason: str, on: date) -> list[ScheduledChange]:
    """Cancel every part of the credit's change that has not taken effect; the caller has
    checked `reversal_refusal`. Each cancellation is audited by licensing."""
    system = licensing_services.system_actor()
    pending = list(_parts(credit).filter(state=ScheduledChange.State.PENDING))
    return [
        licensing_services.scheduled_change_cancel(
            actor=system,
            change_id=part.pk,
            reason=f"Reversal of {credit.number}: {reason}",
            on=on,
            guarded=False,
        )  # fmt: skip
        for part in pending
    ]
