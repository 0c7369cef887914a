"""What credits tells people by e-mail, plain text and HTML, through the outbox.

Each `tell_*` is called inside the service's transaction: the mail is written with the change
it tells of and sent after commit by the outbox's retried task. A message is a subject, a few
paragraphs, facts (label, value) and a link, rendered by one pair of templates so the text and
HTML versions always say the same thing.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.urls import reverse

from licensing.pricing.wording import money_text
from licensing.roles import Role
from outbox.services import mail_enqueue

from .models import ApprovalStep, Credit, Dispute

CREDIT_NOTE_RENDERER = "credits.credit_note"
BASIS_WORDS = {"seat": "seats", "usage": "usage commitment", "bundle": "bundle"}


def site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _send(*, kind: str, to, subject: str, paragraphs: list[str], facts=(), link=None,
          attachments=()) -> None:  # fmt: skip
    context = {"subject": subject, "paragraphs": paragraphs, "facts": list(facts), "link": link}
    mail_enqueue(
        kind=kind, to=to, subject=subject,
        body=render_to_string("credits/mail/message.txt", context),
        html=render_to_string("credits/mail/message.html", context),
        attachments=attachments,
    )  # fmt: skip


def role_emails(*roles: str) -> list[str]:
    return list(
        get_user_model()
        .objects.filter(groups__name__in=[r for r in roles if r], is_active=True)
        .exclude(email="")
        .values_list("email", flat=True)
        .distinct()
    )


def _role_label(role: str) -> str:
    return Role(role).label if role in Role.values else role


def _credit_facts(credit: Credit) -> list[tuple[str, str]]:
    change = credit.change
    facts = [
        ("Customer", credit.customer.name),
        ("Contract", credit.contract.number),
        ("Change", f"{change.get_intent_display()} from {change.effective_date:%-d %B %Y}"),
        ("Amount", money_text(credit.amount, credit.currency)),
    ]
    if credit.converted and credit.base_amount is not None:
        facts.append(
            (f"In {credit.base_currency}", f"{money_text(credit.base_amount, credit.base_currency)}"
             f" at {credit.exchange_rate.normalize()} of {credit.rate_date:%-d %B %Y}")
        )  # fmt: skip
    facts.append(("Policy", credit.policy.name))
    return facts


def tell_approvers(step: ApprovalStep) -> None:
    """The step now awaits a decision: everyone who may decide it is told."""
    credit = step.credit
    total = credit.steps.count()
    _send(
        kind="credit.step", to=role_emails(step.role, step.escalated_to),
        subject=f"{credit} awaits your approval (step {step.order} of {total})",
        paragraphs=[
            f"Step {step.order} of {total} of {credit}, for a "
            f"{_role_label(step.role).lower()}, awaits a decision"
            + (f" by {step.due_at:%-d %B %Y, %H:%M}." if step.due_at else "."),
        ],
        facts=_credit_facts(credit),
        link=("Open the credit", site_url(credit.get_absolute_url())),
    )  # fmt: skip


def tell_customer_issued(credit: Credit) -> None:
    change = credit.change
    paragraphs = [
        f"We issued credit note {credit.number} of {money_text(credit.amount, credit.currency)} "
        f"for the {change.get_intent_display().lower()} of contract {credit.contract.number} "
        f"from {change.effective_date:%-d %B %Y}. The credit note is attached.",
        f"Form: {credit.get_form_display()}.",
    ]
    for line in change.lines.select_related("contract_line__plan", "invoice_line__invoice"):
        invoice = line.invoice_line.invoice if line.invoice_line else None
        period = (
            f"billing period {invoice.period_start:%-d %b %Y} to {invoice.period_end:%-d %b %Y}"
            if invoice else f"from {change.effective_date:%-d %b %Y}"
        )  # fmt: skip
        paragraphs.append(
            f"{line.contract_line.plan.name} ({BASIS_WORDS.get(line.basis, line.basis)}), "
            f"{period}: {money_text(line.credit, credit.currency)}. {line.explanation}"
        )
    policy_path = reverse("credits_portal:policy-version", args=[credit.policy.number])
    paragraphs.append(f"Calculated under {credit.policy.name}: {site_url(policy_path)}")
    _send(
        kind="credit.issue", to=[credit.customer.billing_email],
        subject=f"Credit note {credit.number} issued",
        paragraphs=paragraphs, facts=_credit_facts(credit),
        link=("Your credit in the portal",
              site_url(reverse("credits_portal:credit", args=[credit.pk]))),
        attachments=[{"renderer": CREDIT_NOTE_RENDERER, "kwargs": {"credit_id": credit.pk},
                      "filename": f"{credit.number}.pdf", "mimetype": "application/pdf"}],
    )  # fmt: skip


def render_credit_note_attachment(*, credit_id: int) -> bytes:
    from .pdf import render_credit_note
    from .selectors import credit_detail

    credit = credit_detail(pk=credit_id)
    path = reverse("credits_portal:policy-version", args=[credit.policy.number])
    return render_credit_note(credit, portal_url=site_url(path))


def tell_customer_decided(credit: Credit, *, outcome: str, reason: str) -> None:
    """Rejected or sent back: the customer and the requester read why."""
    what = {
        "reject": ("rejected", "No credit will be issued for this request."),
        "send_back": ("sent back", "The requester can correct and resubmit it, or withdraw it."),
        "withdraw": ("withdrawn", "The contract line is free for a new request."),
    }[outcome]
    _send(
        kind=f"credit.{outcome}",
        to=[credit.customer.billing_email, credit.change.requested_by.email],
        subject=f"{credit} was {what[0]}",
        paragraphs=[f"{credit} for contract {credit.contract.number} was {what[0]}.",
                    f"Reason: {reason}", what[1]],
        facts=_credit_facts(credit),
        link=("Your credit in the portal",
              site_url(reverse("credits_portal:credit", args=[credit.pk]))),
    )  # fmt: skip


def tell_customer_dispute_resolved(dispute: Dispute) -> None:
    credit = dispute.credit
    if dispute.status == Dispute.Status.DISMISSED:
        verdict = "We looked at your dispute and the credit stands."
    elif dispute.outcome == Dispute.Outcome.REVERSAL:
        change = credit.change
        verdict = (
            f"We upheld your dispute: {credit.number} is reversed, and the "
            f"{change.get_intent_display().lower()} from {change.effective_date:%-d %B %Y} it was "
            f"given for is called off, so what you hold stays as it is."
        )
    else:
        corrective = dispute.corrective_credit
        verdict = (
            f"We upheld your dispute: a corrective credit of "
            f"{money_text(corrective.amount, corrective.currency)} is on its way through "
            f"approval; you will be told when it is issued."
        )
    _send(
        kind=f"dispute.{dispute.outcome or dispute.status}", to=[credit.customer.billing_email],
        subject=f"Your dispute of {credit.number}: {verdict.split(':')[0].rstrip('.')}",
        paragraphs=[verdict, f"Reason: {dispute.resolution}"],
        facts=_credit_facts(credit),
        link=("Your credit in the portal",
              site_url(reverse("credits_portal:credit", args=[credit.pk]) + "#disputes")),
    )  # fmt: skip


def tell_dispute_overdue(dispute: Dispute, *, escalate_to: str = "") -> None:
    credit = dispute.credit
    escalated = bool(escalate_to)
    _send(
        kind="dispute.escalate" if escalated else "dispute.remind",
        to=role_emails(escalate_to) if escalated else role_emails(Role.FINANCE_ANALYST),
        subject=(f"Escalated: the dispute of {credit.number} is overdue" if escalated
                 else f"Reminder: the dispute of {credit.number} is due"),
        paragraphs=[f"The customer's dispute of {credit.number} was due by "
                    f"{dispute.due_on:%-d %B %Y}." if escalated else
                    f"The customer's dispute of {credit.number} is due by "
                    f"{dispute.due_on:%-d %B %Y}.",
                    f"The customer wrote: {dispute.reason}"],
        facts=_credit_facts(credit),
        link=("Open the credit", site_url(credit.get_absolute_url() + "#disputes")),
    )  # fmt: skip
