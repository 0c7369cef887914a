"""Breach notices as PDFs: one renderer, three documents, each kept with its content hash.

The renderer takes plain facts (`NoticeFacts`), not a case: whoever stores a notice gathers the
facts once (see `breaches.notice_facts`), so the document shows exactly what was known when it
was issued, and the same facts always give the same bytes and so the same SHA-256.
The templates carry their own CSS and load nothing remote (WeasyPrint, like the credit note and
the deprovisioning notice).
"""

import hashlib
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import models
from django.template.loader import render_to_string
from weasyprint import HTML

SELLER = "LicenseDesk"


class NoticeKind(models.TextChoices):
    BREACH_NOTICE = "breach_notice", "Notice of usage above entitlement"
    REMEDIATION_PROPOSAL = "remediation_proposal", "Proposal to return to compliance"
    RESOLUTION_CONFIRMATION = "resolution_confirmation", "Confirmation of resolution"


TEMPLATES = {
    NoticeKind.BREACH_NOTICE: "breaches/notices/breach_notice.html",
    NoticeKind.REMEDIATION_PROPOSAL: "breaches/notices/remediation_proposal.html",
    NoticeKind.RESOLUTION_CONFIRMATION: "breaches/notices/resolution_confirmation.html",
}


@dataclass(frozen=True)
class Contact:
    name: str
    email: str = ""
    phone: str = ""
    organisation: str = ""


@dataclass(frozen=True)
class Deadline:
    label: str
    due_on: date
    owner: str = ""  # who acts by then, by name


@dataclass(frozen=True)
class OptionFacts:
    title: str
    amount: Decimal  # license fees only
    currency: str
    explanation: str
    fees: Decimal = Decimal(0)  # fees or penalties, always shown apart from license fees
    fee_explanation: str = ""
    valid_until: date | None = None
    agreed: bool = False


@dataclass(frozen=True)
class DayFigure:
    day: date
    quantity: int


@dataclass(frozen=True)
class NoticeFacts:
    kind: str
    reference: str  # how both sides name the case, e.g. "Case 12"
    issued_on: date
    customer: str
    contract: str
    entitlement: str
    unit: str  # "seats", "installations", ...
    metric: str  # readable: "Seats in use"
    entitled: int
    tolerance: Decimal  # usage counts as over above entitled x tolerance
    peak: int
    first_day_over: date
    days_over: int
    renewal_on: date  # the first day after the current term
    renewal: str  # readable: "Renews automatically"
    our_contact: Contact
    daily: tuple[DayFigure, ...] = ()
    customer_contact: Contact | None = None
    deadlines: tuple[Deadline, ...] = ()
    options: tuple[OptionFacts, ...] = ()
    message: str = ""  # a personal paragraph from the account manager, plain text
    resolved_on: date | None = None
    compliant_figure: DayFigure | None = None  # the figure that showed usage within the entitlement
    resolution: str = ""  # how it was resolved, in words

    @property
    def allowed(self) -> Decimal:
        return self.entitled * self.tolerance

    @property
    def allowed_text(self) -> str:
        return _plain(self.allowed)

    @property
    def tolerance_text(self) -> str:
        return _plain(self.tolerance)

    @property
    def over_by(self) -> int:
        return max(self.peak - self.entitled, 0)

    @property
    def title(self) -> str:
        return NoticeKind(self.kind).label


@dataclass(frozen=True)
class RenderedNotice:
    kind: str
    pdf: bytes
    sha256: str
    filename: str
    facts: NoticeFacts = field(repr=False)


def render_notice(facts: NoticeFacts) -> RenderedNotice:
    """The notice as an A4 PDF with its SHA-256, for whoever stores it."""
    template = TEMPLATES[NoticeKind(facts.kind)]
    context = {"seller": SELLER, "facts": facts, "daily": _daily_rows(facts)}
    html = render_to_string(template, context)
    # A fixed identifier keeps the bytes a function of the facts alone: the same notice
    # rendered twice has one hash.
    pdf = HTML(string=html, url_fetcher=_refuse).write_pdf(pdf_identifier=facts.reference.encode())
    digest = hashlib.sha256(pdf).hexdigest()
    slug = "".join(c if c.isalnum() else "-" for c in facts.reference.lower()).strip("-")
    filename = f"{slug}-{facts.kind.replace('_', '-')}-{facts.issued_on:%Y-%m-%d}.pdf"
    return RenderedNotice(facts.kind, pdf, digest, filename, facts)


def _daily_rows(facts: NoticeFacts) -> list[dict]:
    allowed = facts.allowed
    return [
        {
            "day": figure.day,
            "quantity": figure.quantity,
            "over": figure.quantity > allowed,
            "excess": max(figure.quantity - facts.entitled, 0),
        }
        for figure in facts.daily
    ]


def _plain(number: Decimal) -> str:
    """1562.50 reads 1,562.5 and 50.0 reads 50: no trailing zeros, thousands separated."""
    return f"{Decimal(number).normalize():,f}"


def _refuse(url: str, *args, **kwargs):
    # The templates are self-contained; any fetch would be a mistake (or an injected URL).
    raise ValueError(f"A breach notice loads no resources ({url}).")
