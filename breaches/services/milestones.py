"""Milestones: deadlines both sides agreed, reminded before and escalated once passed."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from licensing.errors import DomainError, TransitionNotAllowed

from .. import mail
from ..models import BreachCase, CaseEvent, Milestone
from ..policy import breach_rules
from ._common import audit, event, locked_case, require_manager, require_reason, stamp, system
from .communications import send_from_template


def default_customer_contact(customer) -> tuple[str, str]:
    """The customer's named contact: its first portal user with an address, else billing."""
    member = (
        customer.members.select_related("user").filter(user__is_active=True)
        .exclude(user__email="").order_by("pk").first()
    )  # fmt: skip
    if member is not None:
        user = member.user
        return (user.get_full_name() or user.get_username()), user.email
    return customer.name, customer.billing_email


def add_milestone(case: BreachCase, *, actor, title: str, due_on: date, reason: str,
                  our_contact=None, customer_contact_name: str = "",
                  customer_contact_email: str = "", is_final: bool = False,
                  remind_days: int | None = None) -> Milestone:  # fmt: skip
    """Inside the caller's transaction."""
    if not (title or "").strip():
        raise DomainError("Name the milestone.", field="title")
    name, email = default_customer_contact(case.entitlement.contract.customer)
    our_contact = our_contact or case.owner or (None if actor is None else actor)
    if our_contact is None or not getattr(our_contact, "pk", None):
        raise DomainError("Name who answers for us.", field="our_contact")
    customer_contact_email = customer_contact_email or email
    if not customer_contact_email:
        raise DomainError("Name the customer's contact with an address.",
                          field="customer_contact_email")  # fmt: skip
    milestone = Milestone(
        case=case, title=title.strip()[:200], due_on=due_on, is_final=is_final,
        remind_days=remind_days if remind_days is not None
        else breach_rules(case.policy).reminder_days,
        our_contact=our_contact, customer_contact_name=customer_contact_name or name,
        customer_contact_email=customer_contact_email, created_by=actor,
    )  # fmt: skip
    stamp(milestone, actor=actor, reason=reason)
    milestone.save()
    event(case, kind=CaseEvent.Kind.MILESTONE, action="milestone_add", actor=actor,
          reason=reason, summary=f"Milestone: {milestone.title} by {due_on:%-d %B %Y}"
          + (" (final)" if is_final else ""), data={"milestone": milestone.pk})  # fmt: skip
    return milestone


@transaction.atomic
def milestone_create(*, actor, case_id: int, title: str, due_on: date, on: date, reason: str,
                     our_contact_id: int | None = None, customer_contact_name: str = "",
                     customer_contact_email: str = "", is_final: bool = False,
                     remind_days: int | None = None) -> Milestone:  # fmt: skip
    reason = require_reason(reason)
    require_manager(actor, "set milestones")
    case = locked_case(case_id)
    if not case.is_open:
        raise TransitionNotAllowed(f"The case is {case.get_state_display()}: it has no deadlines.")
    if due_on <= on:
        raise DomainError("A milestone is due after today.", field="due_on")
    our_contact = None
    if our_contact_id is not None:
        our_contact = get_user_model().objects.filter(pk=our_contact_id, is_active=True).first()
        if our_contact is None or not our_contact.has_perm("breaches.transition_breachcase"):
            raise DomainError("Our contact is an account manager.", field="our_contact")
    milestone = add_milestone(
        case, actor=actor, title=title, due_on=due_on, reason=reason, our_contact=our_contact,
        customer_contact_name=customer_contact_name,
        customer_contact_email=customer_contact_email, is_final=is_final, remind_days=remind_days,
    )  # fmt: skip
    audit(actor, "milestone.create", milestone, reason=reason, data={
        "case": case.pk, "title": milestone.title, "due_on": due_on, "final": is_final,
    })  # fmt: skip
    return milestone


@transaction.atomic
def milestone_complete(*, actor, milestone_id: int, on: date, reason: str) -> Milestone:
    reason = require_reason(reason)
    require_manager(actor, "complete milestones")
    milestone = _locked(milestone_id)
    if milestone.done_on is None:
        _complete(milestone, actor=actor, on=on, reason=reason)
        audit(actor, "milestone.complete", milestone, reason=reason,
              data={"case": milestone.case_id, "done_on": on})  # fmt: skip
    return milestone


def _complete(milestone: Milestone, *, actor, on: date, reason: str) -> None:
    milestone.done_on, milestone.done_by = on, actor
    stamp(milestone, actor=actor, reason=reason)
    milestone.save()
    event(milestone.case, kind=CaseEvent.Kind.MILESTONE, action="milestone_done", actor=actor,
          reason=reason, summary=f"Milestone met: {milestone.title}",
          data={"milestone": milestone.pk})  # fmt: skip


def _locked(milestone_id) -> Milestone:
    try:
        case_id = Milestone.objects.values_list("case_id", flat=True).get(pk=milestone_id)
    except (Milestone.DoesNotExist, ValueError, TypeError):
        raise DomainError(f"No milestone with id {milestone_id}.") from None
    locked_case(case_id)
    return (
        Milestone.objects.select_for_update(of=("self",))
        .select_related("case")
        .get(pk=milestone_id)
    )


def milestones_process(*, on: date) -> dict[str, list[int]]:
    """Beat job: remind both contacts `remind_days` before a deadline (once) and escalate the
    case when a deadline passes undone (once). Each milestone in its own transaction."""
    open_states = BreachCase.OPEN_STATES
    pending = Milestone.objects.filter(done_on__isnull=True, case__state__in=open_states)
    reminded, escalated = [], []
    for milestone_id, due_on, days in pending.filter(
        reminded_at__isnull=True, due_on__gte=on
    ).values_list("pk", "due_on", "remind_days"):
        if due_on - timedelta(days=days) <= on and _remind(milestone_id, on=on):
            reminded.append(milestone_id)
    for milestone_id in pending.filter(overdue_at__isnull=True, due_on__lt=on).values_list(
        "pk", flat=True
    ):
        if _overdue(milestone_id, on=on):
            escalated.append(milestone_id)
    return {"reminded": reminded, "escalated": escalated}


@transaction.atomic
def _remind(milestone_id: int, *, on: date) -> bool:
    milestone = _locked(milestone_id)
    if milestone.reminded_at is not None or milestone.done_on is not None:
        return False
    actor = system()
    reason = f"{milestone.title} is due on {milestone.due_on:%-d %B %Y}"
    send_from_template(
        milestone.case, actor=actor, template="milestone_reminder", reason=reason,
        to=[milestone.customer_contact_email, milestone.our_contact.email],
        context={"milestone": milestone},
    )  # fmt: skip
    milestone.reminded_at = timezone.now()
    stamp(milestone, actor=actor, reason=reason)
    milestone.save(update_fields=["reminded_at"])
    return True


@transaction.atomic
def _overdue(milestone_id: int, *, on: date) -> bool:
    from .cases import apply_transition

    milestone = _locked(milestone_id)
    if milestone.overdue_at is not None or milestone.done_on is not None:
        return False
    actor = system()
    case = locked_case(milestone.case_id)
    reason = f"Milestone passed undone: {milestone.title} was due on {milestone.due_on:%-d %B %Y}"
    milestone.overdue_at = timezone.now()
    stamp(milestone, actor=actor, reason=reason)
    milestone.save(update_fields=["overdue_at"])
    if case.state != BreachCase.State.ESCALATED and case.is_open:
        apply_transition(case, "escalate", actor=actor, reason=reason, on=on)
    else:
        event(case, kind=CaseEvent.Kind.MILESTONE, action="milestone_overdue", actor=actor,
              reason=reason, summary=reason, data={"milestone": milestone.pk})  # fmt: skip
        audit(actor, "milestone.overdue", milestone, reason=reason, data={"case": case.pk})
    mail.tell_case(case, kind="milestone_overdue", to=mail.manager_contacts(case.entitlement)
                   + [milestone.our_contact.email], subject=f"Deadline passed: {milestone.title}",
                   paragraphs=[reason + "; the case is escalated."])  # fmt: skip
    return True
