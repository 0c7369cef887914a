"""Issuing a breach notice: the case's facts gathered, rendered (breaches.notice_pdf), and the
PDF stored with its SHA-256, a timeline entry and one audit event.

The PDF is rendered before the transaction (rendering is slow and must not hold the case's
lock); the transaction then locks the case and stores the notice only if the case is still the
version the facts were read from, so a notice never states facts the case no longer has.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from licensing.errors import ActionForbidden, DomainError, TransitionNotAllowed

from . import mail
from .models import BreachCase, BreachNotice, CaseEvent, UsageFigure
from .notice_pdf import (
    Contact,
    DayFigure,
    Deadline,
    NoticeFacts,
    NoticeKind,
    OptionFacts,
    render_notice,
)
from .policy import breach_rules
from .services._common import audit, event, locked_case, may_manage, require_reason, stamp
from .services.communications import send_from_template
from .services.milestones import default_customer_contact

S = BreachCase.State
# When each notice may be issued: a breach notice once the breach is confirmed, a proposal once
# options are offered, a confirmation once the case is resolved.
NOTICE_STATES = {
    NoticeKind.BREACH_NOTICE: {
        S.CONFIRMED, S.REMEDIATION_OFFERED, S.REMEDIATION_AGREED, S.IN_REMEDIATION, S.ESCALATED,
    },
    NoticeKind.REMEDIATION_PROPOSAL: {
        S.REMEDIATION_OFFERED, S.REMEDIATION_AGREED, S.IN_REMEDIATION, S.ESCALATED,
    },
    NoticeKind.RESOLUTION_CONFIRMATION: {S.RESOLVED},
}  # fmt: skip


def breach_notice_refusal(actor, case: BreachCase, kind: str) -> str | None:
    """Why this user may not issue this notice on this case now, or None if they may."""
    if not may_manage(actor):
        return "Your role may not issue notices."
    if kind not in NoticeKind.values:
        return f"There is no notice called {kind!r}."
    if case.state not in NOTICE_STATES[kind]:
        label = NoticeKind(kind).label.lower()
        return f"A case that is {case.get_state_display().lower()} has no {label} to issue."
    if kind == NoticeKind.REMEDIATION_PROPOSAL and not case.has_options():
        return "No option is offered: a proposal needs at least one."
    return None


def notice_kinds_allowed(actor, case: BreachCase) -> list[tuple[str, str]]:
    return [
        (kind, label)
        for kind, label in NoticeKind.choices
        if breach_notice_refusal(actor, case, kind) is None
    ]


def notice_facts(case: BreachCase, *, kind: str, on: date) -> NoticeFacts:
    """What the notice states, read from the case as it is now."""
    entitlement = case.entitlement
    contract = entitlement.contract
    customer = contract.customer
    evidence = case.evidence
    quantity = int(evidence.get("quantity", entitlement.quantity))
    tolerance = evidence.get("tolerance") or breach_rules(case.policy).tolerance
    manager = case.owner or contract.account_manager
    name, email = default_customer_contact(customer)
    options = [
        OptionFacts(
            title=o.get_kind_display(),
            amount=o.amount,
            currency=o.currency,
            explanation=o.explanation,
            fees=o.fees,
            fee_explanation=o.fees_explanation,
            valid_until=o.deadline,
            agreed=o.pk == case.agreed_option_id,
        )  # fmt: skip
        for o in case.options.filter(dropped_at__isnull=True).order_by("pk")
    ]
    if kind == NoticeKind.BREACH_NOTICE:
        options = []
    deadlines = [
        Deadline(m.title, m.due_on, m.customer_contact_name)
        for m in case.milestones.filter(done_on__isnull=True).order_by("due_on", "pk")
    ]
    compliant = None
    resolution = ""
    resolved_on = None
    if kind == NoticeKind.RESOLUTION_CONFIRMATION:
        resolved_on = timezone.localdate(case.closed_at) if case.closed_at else on
        compliant = _compliant_figure(case, quantity)
        if case.agreed_option is not None:
            resolution = (
                f"We agreed on the {case.agreed_option.get_kind_display().lower()} on "
                f"{case.agreed_on:%-d %B %Y}, and the usage reported since is within the "
                "entitlement."
            )
    return NoticeFacts(
        kind=kind, reference=f"Case {case.pk}", issued_on=on, customer=customer.name,
        contract=contract.number, entitlement=entitlement.name, unit=entitlement.unit,
        metric=UsageFigure.Metric(case.metric).label, entitled=quantity,
        tolerance=Decimal(str(tolerance)), peak=int(evidence.get("peak", 0)),
        first_day_over=case.first_day_over or case.detected_on,
        days_over=int(evidence.get("days_over", 0)), renewal_on=entitlement.ends_on,
        renewal=entitlement.get_renewal_display(),
        our_contact=Contact(
            manager.get_full_name() or manager.get_username() if manager else "Account management",
            manager.email if manager else "",
        ),
        customer_contact=Contact(name, email), daily=tuple(
            DayFigure(date.fromisoformat(d["day"]), int(d["quantity"]))
            for d in evidence.get("daily", [])
        ),
        deadlines=tuple(deadlines), options=tuple(options), resolved_on=resolved_on,
        compliant_figure=compliant, resolution=resolution,
    )  # fmt: skip


def _compliant_figure(case: BreachCase, quantity: int) -> DayFigure | None:
    if case.agreed_on is None or case.agreed_at is None:
        return None
    figure = (
        UsageFigure.objects.filter(
            entitlement_id=case.entitlement_id,
            metric=case.metric,
            replaced_at__isnull=True,
            day__gte=case.agreed_on,
            report__received_at__gt=case.agreed_at,
            quantity__lte=quantity,
        )  # fmt: skip
        .order_by("day", "pk")
        .first()
    )
    return DayFigure(figure.day, figure.quantity) if figure else None


def breach_notice_issue(*, actor, case_id: int, kind: str, on: date, reason: str) -> BreachNotice:
    """Render the notice from the case as it stands and keep it, with its hash."""
    reason = require_reason(reason, field="reason")
    try:
        case = BreachCase.objects.select_related(
            "entitlement__contract__customer",
            "entitlement__contract__account_manager",
            "owner",
            "policy",
            "agreed_option",
        ).get(pk=case_id)  # fmt: skip
    except (BreachCase.DoesNotExist, ValueError, TypeError):
        raise DomainError(f"No breach case with id {case_id}.") from None
    refusal = breach_notice_refusal(actor, case, kind)
    if refusal:
        raise (ActionForbidden if not may_manage(actor) else TransitionNotAllowed)(refusal)
    rendered = render_notice(notice_facts(case, kind=kind, on=on))
    return _store(case.pk, case.version, rendered, actor=actor, reason=reason)


@transaction.atomic
def _store(case_id: int, version: int, rendered, *, actor, reason: str) -> BreachNotice:
    case = locked_case(case_id)
    if case.version != version:
        raise TransitionNotAllowed(
            "The case changed while the notice was being prepared; issue it again."
        )
    notice = BreachNotice(case=case, kind=rendered.kind, pdf=rendered.pdf,
                          sha256=rendered.sha256, created_by=actor)  # fmt: skip
    stamp(notice, actor=actor, reason=reason)
    notice.save()
    label = NoticeKind(rendered.kind).label
    event(case, kind=CaseEvent.Kind.NOTICE, action=rendered.kind, actor=actor, reason=reason,
          summary=f"Notice issued: {label}", data={"notice": notice.pk,
                                                   "sha256": rendered.sha256})  # fmt: skip
    audit(actor, "breach_notice.issue", notice, reason=reason, policy=case.policy,
          data={"case": case.pk, "kind": rendered.kind, "sha256": rendered.sha256})  # fmt: skip
    _send(case, notice, actor=actor, reason=reason)
    return notice


def _send(case: BreachCase, notice: BreachNotice, *, actor, reason: str) -> None:
    """E-mail the notice to the customer's contacts with the PDF attached, as stored (the
    outbox sends it once the transaction commits), and log the e-mail on the case. A customer
    with no contact address still has the notice in the portal."""
    if not any(mail.customer_contacts(case.entitlement.contract.customer)):
        return
    label = NoticeKind(notice.kind).label
    filename = f"case-{case.pk}-{notice.kind.replace('_', '-')}-{notice.created_at:%Y-%m-%d}.pdf"
    send_from_template(
        case, actor=actor, template=notice.kind, reason=reason,
        note=f"The {label.lower()} is attached as a PDF; you can also read it in the portal.",
        attachments=[{"renderer": mail.NOTICE_RENDERER, "kwargs": {"notice_id": notice.pk},
                      "filename": filename, "mimetype": "application/pdf"}],
    )  # fmt: skip
