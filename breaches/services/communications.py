"""The communications log: e-mails from templates through the outbox, calls and meetings
recorded, attachments kept with their hash. Entries are never changed once logged."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from licensing.access import customer_of
from licensing.errors import DomainError

from .. import letters, mail
from ..models import BreachCase, CaseEvent, Communication, CommunicationAttachment
from ._common import audit, event, locked_case, require_manager, require_reason, stamp

MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


def _attach(entry: Communication, files: Iterable[Attachment], *, actor, reason: str) -> list:
    kept = []
    for file in files:
        if not file.filename or len(file.content) > MAX_ATTACHMENT_BYTES:
            raise DomainError("Each attachment needs a name and at most 5 MB.", field="attachments")
        row = CommunicationAttachment(
            communication=entry, filename=file.filename[:255],
            content_type=(file.content_type or "application/octet-stream")[:100],
            content=file.content, size=len(file.content),
            sha256=hashlib.sha256(file.content).hexdigest(),
        )  # fmt: skip
        stamp(row, actor=actor, reason=reason)
        row.save()
        kept.append(row)
    return kept


def _log(case: BreachCase, entry: Communication, files, *, actor, reason: str) -> Communication:
    stamp(entry, actor=actor, reason=reason)
    entry.save()
    kept = _attach(entry, files, actor=actor, reason=reason)
    event(case, kind=CaseEvent.Kind.COMMUNICATION, action=entry.kind, actor=actor, reason=reason,
          summary=f"{entry.get_kind_display()}: {entry.subject}", communication=entry,
          data={"attachments": [a.filename for a in kept]})  # fmt: skip
    audit(actor, f"communication.{entry.kind}", entry, reason=reason, data={
        "case": case.pk, "subject": entry.subject, "recipients": entry.recipients,
        "attachments": [{"filename": a.filename, "sha256": a.sha256} for a in kept],
    })  # fmt: skip
    return entry


def send_from_template(case: BreachCase, *, actor, template: str, reason: str, to=None,
                       note: str = "", files=(), attachments=(),
                       context: dict | None = None) -> Communication:  # fmt: skip
    """Inside the caller's transaction: render, queue through the outbox, log."""
    if template not in letters.TEMPLATES:
        raise DomainError(f"No e-mail template called {template!r}.", field="template")
    subject, paragraphs = letters.TEMPLATES[template][1](case, **(context or {}))
    if note.strip():
        paragraphs = [*paragraphs, note.strip()]
    to = to or mail.customer_contacts(case.entitlement.contract.customer)
    recipients = sorted({address for address in to if address})
    if not recipients:
        raise DomainError("Nobody to send to: the customer has no contact address.", field="to")
    sent = mail.send(kind=f"breach.{template}", to=recipients, subject=subject,
                     paragraphs=paragraphs, facts=mail.case_facts(case),
                     attachments=attachments)  # fmt: skip
    entry = Communication(
        case=case, kind=Communication.Kind.EMAIL, template=template, subject=subject[:300],
        body="\n\n".join(paragraphs), recipients=recipients, occurred_at=timezone.now(),
        logged_by=actor, mail=sent,
    )  # fmt: skip
    return _log(case, entry, files, actor=actor, reason=reason)


def _staff_case(actor, case_id, what: str) -> BreachCase:
    require_manager(actor, what)
    return locked_case(case_id)


@transaction.atomic
def communication_send_email(*, actor, case_id: int, template: str, reason: str,
                             to: list[str] | None = None, note: str = "",
                             attachments: Iterable[Attachment] = ()) -> Communication:  # fmt: skip
    """E-mail the customer's contacts (or `to`) from a plain-language template."""
    reason = require_reason(reason)
    case = _staff_case(actor, case_id, "write to customers about a case")
    return send_from_template(case, actor=actor, template=template, reason=reason, to=to,
                              note=note, files=list(attachments))  # fmt: skip


@transaction.atomic
def communication_log(*, actor, case_id: int, kind: str, subject: str, body: str,
                      occurred_at: datetime, reason: str, participants: str = "",
                      staff_note: str = "",
                      attachments: Iterable[Attachment] = ()) -> Communication:  # fmt: skip
    """Record a call or a meeting that took place."""
    reason = require_reason(reason)
    case = _staff_case(actor, case_id, "log communications")
    if kind not in (Communication.Kind.CALL, Communication.Kind.MEETING):
        raise DomainError("Log a call or a meeting; e-mails are sent from a template.",
                          field="kind")  # fmt: skip
    if not (subject or "").strip():
        raise DomainError("Say what it was about.", field="subject")
    if not (body or "").strip():
        raise DomainError("Write down what was said.", field="body")
    if occurred_at > timezone.now():
        raise DomainError("A call or a meeting is logged after it took place.",
                          field="occurred_at")  # fmt: skip
    entry = Communication(
        case=case, kind=kind, subject=subject.strip()[:300], body=body.strip(),
        participants=(participants or "").strip()[:500], occurred_at=occurred_at,
        logged_by=actor, staff_note=(staff_note or "").strip(),
    )  # fmt: skip
    return _log(case, entry, list(attachments), actor=actor, reason=reason)


def may_read_attachment(user, attachment: CommunicationAttachment) -> bool:
    customer = customer_of(user)
    if customer is None:
        return user.has_perm("breaches.view_communicationattachment")
    return attachment.communication.case.entitlement.contract.customer_id == customer.pk
