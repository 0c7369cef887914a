"""The case lifecycle: transitions with their guards, classification, the agreement, and the
two-person endings of an escalated case.

`breach_case_transition` is the one door for every move; `breach_case_transition_refusal`
says, for pages and serializers, whether a user may ask for a move at all (the state and the
guards are judged by the service, which answers 409 naming the state and the move).
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from django_fsm import can_proceed

from licensing.access import customer_of
from licensing.errors import ActionForbidden, DomainError, TransitionNotAllowed

from .. import mail
from ..models import BreachCase, CaseEvent, Classification, RemediationOption, UsageFigure
from ..policy import breach_rules
from . import options as option_services
from ._common import audit, event, is_system, locked_case, may_manage, require_reason, stamp
from .communications import send_from_template
from .milestones import add_milestone

TRANSITIONS = (
    "review", "confirm", "dismiss", "offer", "agree", "start_remediation", "resolve", "escalate",
)  # fmt: skip
LABELS = {
    "review": "Start review", "confirm": "Confirm the breach", "dismiss": "Dismiss",
    "offer": "Offer remediation", "agree": "Record the agreement",
    "start_remediation": "Start remediation", "resolve": "Resolve", "escalate": "Escalate",
}  # fmt: skip
CUSTOMER_MOVES = ("agree",)
S = BreachCase.State


def breach_case_transition_refusal(actor, case: BreachCase, transition: str) -> str | None:
    """Whether this user may ask for this move on this case at all (not the state or guards).
    A customer may only agree, on its own case; staff need the manager's permission."""
    if transition not in TRANSITIONS:
        return f"There is no move called {transition!r}."
    customer = customer_of(actor) if actor is not None and actor.is_authenticated else None
    if customer is not None:
        if case.entitlement.contract.customer_id != customer.pk:
            return "This case is not yours."
        if transition not in CUSTOMER_MOVES:
            return "Customers may agree to an option; every other move is ours to make."
        return None
    if not may_manage(actor):
        return "Your role may not move breach cases."
    return None


def allowed_transitions(actor, case: BreachCase) -> list[str]:
    """The moves the case's state allows this user now (guards aside): what pages offer."""
    return [
        name for name in TRANSITIONS
        if breach_case_transition_refusal(actor, case, name) is None
        and can_proceed(getattr(case, name), check_conditions=False)
    ]  # fmt: skip


def compliant_since_agreement(case: BreachCase) -> bool:
    """A figure for a day on or after the agreement's date, reported after the agreement, is
    within the entitlement (at most its quantity), for every metric that was over."""
    if case.agreed_on is None or case.agreed_at is None:
        return False
    quantity = case.evidence.get("quantity", case.entitlement.quantity)
    metrics = {run["metric"] for run in case.evidence.get("runs", [])} or {case.metric}
    figures = UsageFigure.objects.filter(
        entitlement_id=case.entitlement_id, metric__in=metrics, replaced_at__isnull=True,
        day__gte=case.agreed_on, report__received_at__gt=case.agreed_at,
        quantity__lte=quantity,
    )  # fmt: skip
    return set(figures.values_list("metric", flat=True).distinct()) == metrics


def breach_case_offer_refusal(actor, case: BreachCase) -> str | None:
    """Why the options cannot be offered now (the offer's guard, said before it is tried),
    or None. Who may move the case at all is breach_case_transition_refusal's question."""
    if not case.has_options():
        return "No option to offer: keep at least one remediation option before offering."
    return None


def breach_case_resolve_refusal(actor, case: BreachCase) -> str | None:
    """Why a case in remediation cannot be resolved yet, or None: usage reported after the
    agreement must be within the entitlement. An escalated case ends on a second person's
    approval instead (breach_case_transition records the request)."""
    if case.state == S.ESCALATED and case.close_requested_to != S.RESOLVED:
        return "An escalated case ends only with a second person's approval."
    if case.agreed_on is not None and not compliant_since_agreement(case):
        since = f"{case.agreed_on:%-d %B %Y}"
        return (
            f"Not yet resolvable: no usage figure within the entitlement has been reported, "
            f"since the agreement, for a day on or after {since}."
        )
    return None


def _guard_message(case: BreachCase, transition: str) -> str:
    """What a refused guard answers: the public refusals' words, so page and API agree."""
    refusal = {"offer": breach_case_offer_refusal, "resolve": breach_case_resolve_refusal}.get(
        transition
    )
    if refusal is not None and (message := refusal(None, case)):
        return message
    if transition == "dismiss" and case.state == S.ESCALATED:
        return "An escalated case ends only with a second person's approval."
    return f"The case cannot {transition} now."


def apply_transition(case: BreachCase, transition: str, *, actor, reason: str, on: date,
                     option: RemediationOption | None = None) -> BreachCase:  # fmt: skip
    """Inside the caller's transaction, on a locked case: judge, move, record."""
    method = getattr(case, transition)
    before = case.state
    if not can_proceed(method, check_conditions=False):
        raise TransitionNotAllowed(
            f"A case that is {case.get_state_display().lower()} ({case.state}) cannot {transition}."
        )
    if transition == "resolve" and case.agreed_on is not None:
        case.compliant_since_agreement = compliant_since_agreement(case)
    if not can_proceed(method):
        raise TransitionNotAllowed(
            f"{_guard_message(case, transition)} (state {case.state}, move {transition})"
        )
    if transition == "confirm":
        refusal = option_services.pricing_refusal(case)
        if refusal:
            raise TransitionNotAllowed(f"{refusal} (state {case.state}, move {transition})")
    now = timezone.now()
    if transition == "agree":
        case.agreed_option, case.agreed_on, case.agreed_at, case.agreed_by = (
            option, on, now, actor,
        )  # fmt: skip
    method()
    if transition == "escalate":
        case.escalated_at = now
    if case.state in BreachCase.CLOSED_STATES:
        case.closed_at = now
    data = {"from": before, "to": case.state}
    if option is not None:
        data["option"] = option.kind
    if before == S.ESCALATED and case.close_requested_by_id:
        data["requested_by"] = case.close_requested_by.get_username()
        data["approved_by"] = actor.get_username()
    case.version += 1
    stamp(case, actor=actor, reason=reason)
    case.save()
    kind = CaseEvent.Kind.AGREEMENT if transition == "agree" else CaseEvent.Kind.TRANSITION
    summary = f"{LABELS[transition]}: {BreachCase.State(before).label} → {case.get_state_display()}"
    if option is not None:
        summary = f"Agreed to the {option.get_kind_display().lower()}"
    event(case, kind=kind, action=transition, actor=actor, reason=reason, summary=summary,
          from_state=before, to_state=case.state, data=data)  # fmt: skip
    audit(actor, f"breach_case.{transition}", case, reason=reason, policy=case.policy, data=data)
    _after(case, transition, actor=actor, reason=reason, on=on)
    return case


def _after(case: BreachCase, transition: str, *, actor, reason: str, on: date) -> None:
    """What a move brings with it, in the same transaction."""
    rules = breach_rules(case.policy).for_classification(case.classification)
    customer = case.entitlement.contract.customer
    if transition == "confirm":
        option_services.options_price(case, actor=actor, on=on, reason=reason)
    elif transition == "offer":
        send_from_template(case, actor=actor, template="remediation_proposal", reason=reason)
        add_milestone(case, actor=actor, title="Choose a remediation option",
                      due_on=on + timedelta(days=rules.respond_days), reason=reason)  # fmt: skip
    elif transition == "agree":
        for milestone in case.milestones.filter(done_on__isnull=True, is_final=False):
            milestone.done_on, milestone.done_by = on, actor
            stamp(milestone, actor=actor, reason=reason)
            milestone.save()
        option = case.agreed_option
        due = option.deadline or on + timedelta(days=rules.reduction_days)
        add_milestone(case, actor=actor, title="Usage back within the entitlement",
                      due_on=max(due, on + timedelta(days=1)), reason=reason,
                      is_final=True)  # fmt: skip
        mail.tell_case(case, kind="agreed", to=mail.manager_contacts(case.entitlement),
                       subject=f"{customer.name} agreed: {option.get_kind_display()}",
                       paragraphs=[f"{customer.name} agreed to the "
                                   f"{option.get_kind_display().lower()} on {on:%-d %B %Y}."]
                       )  # fmt: skip
    elif transition == "resolve":
        send_from_template(case, actor=actor, template="resolution_confirmation", reason=reason)
    elif transition == "escalate":
        mail.tell_case(case, kind="escalated", to=mail.manager_contacts(case.entitlement),
                       subject=f"Escalated: breach case {case.pk} ({customer.name})",
                       paragraphs=[f"Breach case {case.pk} was escalated: {reason}"])  # fmt: skip


def _request_close(case: BreachCase, transition: str, *, actor, reason: str) -> BreachCase:
    """The first of two people asks to end an escalated case; the state stays."""
    target = S.RESOLVED if transition == "resolve" else S.DISMISSED
    if case.close_requested_to and case.close_requested_by_id != actor.pk:
        raise TransitionNotAllowed(
            f"The case awaits approval to be {case.get_close_requested_to_display().lower()}; "
            f"approve that or leave it (state {case.state}, move {transition})"
        )
    case.close_requested_to, case.close_requested_by = target, actor
    case.close_requested_at, case.close_request_reason = timezone.now(), reason
    case.version += 1
    stamp(case, actor=actor, reason=reason)
    case.save()
    event(case, kind=CaseEvent.Kind.APPROVAL, action=f"request_{transition}", actor=actor,
          reason=reason, summary=f"Asked to {transition} the escalated case; a second person "
          "must approve", customer_visible=False)  # fmt: skip
    audit(actor, f"breach_case.request_{transition}", case, reason=reason, policy=case.policy,
          data={"to": target})  # fmt: skip
    return case


@transaction.atomic
def breach_case_transition(*, actor, case_id: int, transition: str, reason: str, on: date,
                           option: str | None = None) -> BreachCase:  # fmt: skip
    """Move a case. `option` (a kind) names what is agreed to, for `agree`.

    An escalated case ends (`resolve`, `dismiss`) in two steps: the first person's call records
    the request (the state stays escalated), a different person's same call carries it out.
    """
    reason = require_reason(reason, field="reason")
    case = locked_case(case_id)
    refusal = breach_case_transition_refusal(actor, case, transition)
    if refusal:
        raise ActionForbidden(refusal)
    chosen = None
    if transition == "agree":
        if not option:
            raise DomainError("Name the option agreed to.", field="option")
        chosen = case.options.filter(kind=option, dropped_at__isnull=True).first()
        if chosen is None and case.state == S.REMEDIATION_OFFERED:
            raise DomainError(f"{option!r} is not among the options offered.", field="option")
    if case.state == S.ESCALATED and transition in ("resolve", "dismiss") and not is_system(actor):
        target = S.RESOLVED if transition == "resolve" else S.DISMISSED
        if case.close_requested_to != target or case.close_requested_by_id == actor.pk:
            if case.close_requested_by_id == actor.pk and case.close_requested_to == target:
                raise ActionForbidden("You asked for this ending; somebody else must approve it.")
            return _request_close(case, transition, actor=actor, reason=reason)
    return apply_transition(case, transition, actor=actor, reason=reason, on=on, option=chosen)


@transaction.atomic
def breach_case_classify(*, actor, case_id: int, classification: str, rationale: str,
                         reason: str | None = None) -> BreachCase:  # fmt: skip
    """Classify an open case inadvertent or willful, with the rationale; before the offer,
    the options' fees and deadlines follow the classification's rules."""
    rationale = (rationale or "").strip()
    if classification not in Classification.values:
        raise DomainError("Choose inadvertent or willful.", field="classification")
    if not rationale:
        raise DomainError("Say why: the rationale stays with the case.", field="rationale")
    require_reason(rationale, field="rationale")
    reason = (reason or "").strip() or rationale
    case = locked_case(case_id)
    if not may_manage(actor) or customer_of(actor) is not None:
        raise ActionForbidden("Your role may not classify breach cases.")
    if not case.is_open:
        raise TransitionNotAllowed(
            f"A {case.get_state_display().lower()} case is not classified again "
            f"(state {case.state}, move classify)"
        )
    before = case.classification
    case.classification, case.classification_rationale = classification, rationale
    case.classified_by, case.classified_at = actor, timezone.now()
    case.version += 1
    stamp(case, actor=actor, reason=reason)
    case.save()
    if case.state == S.CONFIRMED:
        option_services.refresh_for_classification(case, actor=actor, reason=reason)
    event(case, kind=CaseEvent.Kind.CLASSIFICATION, action="classify", actor=actor,
          reason=reason, summary=f"Classified {case.get_classification_display().lower()}",
          data={"from": before, "to": classification, "rationale": rationale},
          customer_visible=False)  # fmt: skip
    audit(actor, "breach_case.classify", case, reason=reason, policy=case.policy,
          data={"from": before, "to": classification, "rationale": rationale})  # fmt: skip
    return case


@transaction.atomic
def breach_case_assign(*, actor, case_id: int, owner, reason: str) -> BreachCase:
    """Hand the case to another account manager."""
    reason = require_reason(reason)
    if not may_manage(actor):
        raise ActionForbidden("Your role may not assign breach cases.")
    if owner is None or not owner.has_perm("breaches.transition_breachcase"):
        raise DomainError("The owner is an account manager.", field="owner")
    case = locked_case(case_id)
    before = case.owner
    case.owner = owner
    stamp(case, actor=actor, reason=reason)
    case.save()
    event(case, kind=CaseEvent.Kind.TRANSITION, action="assign", actor=actor, reason=reason,
          summary=f"Assigned to {owner.get_full_name() or owner.get_username()}",
          customer_visible=False)  # fmt: skip
    audit(
        actor,
        "breach_case.assign",
        case,
        reason=reason,
        policy=case.policy,
        data={"from": before.get_username() if before else "", "to": owner.get_username()},
    )
    return case


# Staff notes are a working memo, as long as a logged call's account of what was said.
NOTES_MAX_LENGTH = 20000


@transaction.atomic
def breach_case_note(*, actor, case_id: int, notes: str, reason: str = "Staff notes") -> BreachCase:
    """Replace the staff notes (never shown to the customer)."""
    reason = require_reason(reason, field="reason")
    if len(notes or "") > NOTES_MAX_LENGTH:
        raise DomainError(f"Keep the notes to {NOTES_MAX_LENGTH:,} characters.", field="notes")
    if not may_manage(actor) or customer_of(actor) is not None:
        raise ActionForbidden("Your role may not write case notes.")
    case = locked_case(case_id)
    before = case.staff_notes
    case.staff_notes = (notes or "").strip()
    stamp(case, actor=actor, reason=reason)
    case.save()
    event(case, kind=CaseEvent.Kind.TRANSITION, action="note", actor=actor, reason=reason,
          summary="Staff notes updated" if case.staff_notes else "Staff notes cleared",
          customer_visible=False)  # fmt: skip
    audit(actor, "breach_case.note", case, reason=reason, policy=case.policy,
          data={"had_notes": bool(before), "has_notes": bool(case.staff_notes)})  # fmt: skip
    return case
