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
# What a case file may hold: the kinds of document a customer sends or we send back. The type
# is judged by the name's ending and by the first bytes, never by what the sender claims.
# ending: (content type, leading bytes or None for text)
ATTACHMENT_TYPES = {
    "pdf": ("application/pdf", (b"%PDF-",)),
    "png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    "jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    "txt": ("text/plain", None),
    "csv": ("text/csv", None),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
             (b"PK\x03\x04",)),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             (b"PK\x03\x04",)),
}  # fmt: skip
ATTACHMENT_HELP = "PDF, PNG, JPEG, text, CSV, Word or Excel (.docx, .xlsx); at most 5 MB."


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


def attachment_refusal(file: Attachment) -> str | None:
    """Why this file may not be kept with a communication, or None."""
    name = (file.filename or "").strip()
    if not name:
        return "The file has no name."
    if not file.content:
        return f"{name} is empty."
    if len(file.content) > MAX_ATTACHMENT_BYTES:
        return f"{name} is larger than 5 MB."
    ending = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    kind = ATTACHMENT_TYPES.get(ending)
    if kind is None:
        return f"{name} is not a file type kept with a case: {ATTACHMENT_HELP}"
    leading = kind[1]
    if leading is None:
        try:
            file.content.decode("utf-8")
        except UnicodeDecodeError:
            return f"{name} is not plain text (UTF-8) as its name says."
        if b"\x00" in file.content:
            return f"{name} is not plain text as its name says."
    elif not file.content.startswith(leading):
        return f"{name} does not hold what its name says ({ending.upper()})."
    return None


def attachment_from_upload(upload) -> Attachment:
    """A file uploaded through a page, read once; judged when it is kept."""
    return Attachment(filename=upload.name, content_type=upload.content_type or "",
                      content=upload.read(MAX_ATTACHMENT_BYTES + 1))  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Kept:
    """A file as it will be kept: its name, judged type and hash (for the mail's spec)."""

    file: Attachment

    @property
    def filename(self) -> str:
        return self.file.filename.strip()[:255]

    @property
    def content_type(self) -> str:
        return ATTACHMENT_TYPES[self.file.filename.rsplit(".", 1)[-1].lower()][0]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.file.content).hexdigest()


def _attach(entry: Communication, files: Iterable[Attachment], *, actor, reason: str) -> list:
    kept = []
    for file in files:
        refusal = attachment_refusal(file)
        if refusal:
            raise DomainError(refusal, field="attachments")
        kept_as = _Kept(file)
        row = CommunicationAttachment(
            communication=entry, filename=kept_as.filename, content_type=kept_as.content_type,
            content=file.content, size=len(file.content), sha256=kept_as.sha256,
        )  # fmt: skip
        stamp(row, actor=actor, reason=reason)
        row.save()
        kept.append(row)
    return kept


def _log(case: BreachCase, entry: Communication, files, *, actor, reason: str) -> Communication:
    stamp(entry, actor=actor, reason=reason)
    entry.save()
    kept = _attach(entry, files, actor=actor, reason=reason)
    # The timeline and the chain name the entry, never what it says: its subject and its files'
    # names may name people, and both are append-only and exported; the entry is sealed
    # (audit.sealing) and read through `CaseEvent.line_for`.
    event(case, kind=CaseEvent.Kind.COMMUNICATION, action=entry.kind, actor=actor, reason=reason,
          summary=entry.get_kind_display(), communication=entry,
          data={"attachment_count": len(kept)})  # fmt: skip
    audit(actor, f"communication.{entry.kind}", entry, reason=reason, data={
        "case": case.pk, "recipient_count": len(entry.recipients),
        "attachments": [{"sha256": a.sha256, "size": a.size} for a in kept],
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
    files = list(files)
    for file in files:  # judged before anything is written or sent
        refusal = attachment_refusal(file)
        if refusal:
            raise DomainError(refusal, field="attachments")
    # The uploaded files go with the mail too, as the bytes kept with the entry.
    sent_files = [mail.case_file_attachment(_Kept(f)) for f in files]
    sent = mail.send(kind=f"breach.{template}", to=recipients, subject=subject,
                     paragraphs=paragraphs, facts=mail.case_facts(case),
                     attachments=[*attachments, *sent_files])  # fmt: skip
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
