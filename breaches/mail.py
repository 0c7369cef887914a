"""What breaches tells people by e-mail, plain text and HTML, through the outbox.

Called inside the service's transaction: the mail row is written with the change and sent
after commit by the outbox's retried task. Plain language and exact numbers; one pair of
templates renders every message, so both versions always say the same thing.
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string

from licensing.models import CustomerMembership
from outbox.services import mail_enqueue

from .models import BreachCase, UsageWarning


def site_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def message(*, kind: str, to, subject: str, paragraphs: list[str], facts=(), link=None,
            attachments=()) -> dict:  # fmt: skip
    """A mail rendered from the one pair of templates, as `mail_enqueue` takes it."""
    context = {"subject": subject, "paragraphs": paragraphs, "facts": list(facts), "link": link}
    return {
        "kind": kind, "to": to, "subject": subject,
        "body": render_to_string("breaches/mail/message.txt", context),
        "html": render_to_string("breaches/mail/message.html", context),
        "attachments": attachments,
    }  # fmt: skip


def send(*, kind: str, to, subject: str, paragraphs: list[str], facts=(), link=None,
         attachments=()):  # fmt: skip
    return mail_enqueue(**message(kind=kind, to=to, subject=subject, paragraphs=paragraphs,
                                  facts=facts, link=link, attachments=attachments))  # fmt: skip


def customer_contacts(customer) -> list[str]:
    """The customer's billing address and its portal users' addresses."""
    members = customer.members.select_related("user").filter(user__is_active=True)
    return [customer.billing_email, *(m.user.email for m in members)]


def member_emails(customer_ids) -> dict[int, list[str]]:
    """The addresses of the active portal users of many customers, by customer id, in one
    query (`customer_contacts` without the billing address, for many customers)."""
    contacts: dict[int, list[str]] = {pk: [] for pk in customer_ids}
    rows = CustomerMembership.objects.filter(
        customer_id__in=list(contacts), user__is_active=True
    ).values_list("customer_id", "user__email")
    for customer_id, email in rows:
        contacts[customer_id].append(email)
    return contacts


def manager_contacts(entitlement) -> list[str]:
    manager = entitlement.contract.account_manager
    return [manager.email] if manager is not None else []


def metric_words(metric: str) -> str:
    return {"seats_in_use": "seats in use", "api_calls": "API calls",
            "installations": "installations"}.get(metric, metric)  # fmt: skip


def tell_usage_warning(warning: UsageWarning):
    entitlement = warning.entitlement
    to = customer_contacts(entitlement.contract.customer) + manager_contacts(entitlement)
    return mail_enqueue(**usage_warning_mail(warning, to=to))


def usage_warning_mail(warning: UsageWarning, *, to: list[str]) -> dict:
    """The warning's mail as `mail_enqueue` takes it; the entitlement's contract, customer and
    account manager already fetched."""
    entitlement = warning.entitlement
    contract = entitlement.contract
    subject = (
        f"{entitlement.name}: usage reached {warning.threshold}% of the entitlement "
        f"on {warning.day:%-d %B %Y}"
    )
    paragraphs = [
        f"On {warning.day:%-d %B %Y}, {warning.figure:,} {metric_words(warning.metric)} were "
        f"reported for {entitlement.name} on contract {contract.number}, which entitles "
        f"{contract.customer.name} to {warning.quantity:,} {entitlement.unit}.",
        f"That is {warning.threshold}% of the entitlement or more. Nothing changes yet: this "
        "is a friendly heads-up so there is time to adjust usage or talk to us about a bigger "
        "plan. We tell you once for each threshold.",
    ]
    return message(
        kind=f"breach.warning.{warning.threshold}",
        to=to,
        subject=subject,
        paragraphs=paragraphs,
        facts=[
            ("Contract", contract.number),
            ("Entitlement", entitlement.name),
            ("Entitled", f"{warning.quantity:,} {entitlement.unit}"),
            ("Reported", f"{warning.figure:,} on {warning.day:%-d %B %Y}"),
        ],  # fmt: skip
    )


def case_facts(case: BreachCase) -> list[tuple[str, str]]:
    entitlement = case.entitlement
    evidence = case.evidence
    facts = [
        ("Contract", entitlement.contract.number),
        ("Entitlement", entitlement.name),
        ("Entitled", f"{evidence.get('quantity', entitlement.quantity):,} {entitlement.unit}"),
    ]
    if evidence.get("first_day_over"):
        facts += [
            ("Peak", f"{evidence['peak']:,} {metric_words(evidence.get('metric', ''))}"),
            ("First day over", evidence["first_day_over"]),
            ("Days over", str(evidence["days_over"])),
        ]
    return facts


def tell_case(case: BreachCase, *, kind: str, to, subject: str, paragraphs: list[str]):
    return send(kind=f"breach.{kind}", to=to, subject=subject, paragraphs=paragraphs,
                facts=case_facts(case))  # fmt: skip


# Files a breach mail carries, rendered by the outbox when it sends (see outbox.attachments):
# what is attached is the stored bytes, so the mail holds what the case holds.
CASE_FILE_RENDERER = "breaches.case_file"
NOTICE_RENDERER = "breaches.notice"


def case_file_attachment(file) -> dict:
    """The spec of a file kept with a communication, found again by its hash when the mail is
    sent (the row is written in the same transaction as the mail)."""
    return {"renderer": CASE_FILE_RENDERER, "kwargs": {"sha256": file.sha256},
            "filename": file.filename, "mimetype": file.content_type}  # fmt: skip


def render_case_file(*, sha256: str) -> bytes:
    from .models import CommunicationAttachment

    row = CommunicationAttachment.objects.filter(sha256=sha256).order_by("pk").first()
    if row is None:
        raise LookupError(f"No case file with SHA-256 {sha256} is stored.")
    return bytes(row.content)


def render_notice(*, notice_id: int) -> bytes:
    from .models import BreachNotice

    return bytes(BreachNotice.objects.only("pdf").get(pk=notice_id).pdf)
