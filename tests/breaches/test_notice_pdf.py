"""Breach notices read back as a customer's PDF reader would: with pdftotext."""

import hashlib
import re
import shutil
import subprocess
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from breaches.notice_pdf import (
    Contact,
    DayFigure,
    Deadline,
    NoticeFacts,
    NoticeKind,
    OptionFacts,
    render_notice,
)

pytestmark = pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils")

FIRST_OVER = date(2026, 3, 11)


def pdf_text(pdf: bytes) -> str:
    done = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return re.sub(r"\s+", " ", done.stdout.decode())


def facts(kind: str, **changes) -> NoticeFacts:
    base = NoticeFacts(
        kind=kind, reference="Case 12", issued_on=date(2026, 3, 20),
        customer="Northwind Traders", contract="C-2026-0001",
        entitlement="Analytics named-user seats", unit="seats", metric="Seats in use",
        entitled=1250, tolerance=Decimal("1.25"), peak=1731, first_day_over=FIRST_OVER,
        days_over=4, renewal_on=date(2027, 1, 1), renewal="Renews automatically",
        our_contact=Contact("Maya Okafor", "maya@example.com", "+44 20 7946 0000"),
        customer_contact=Contact("Nina Berg", "nina@example.com"),
        daily=tuple(
            DayFigure(FIRST_OVER + timedelta(days=n), q)
            for n, q in enumerate([1600, 1731, 1650, 1590])
        ),
        deadlines=(Deadline("Reply to this notice", date(2026, 4, 3), "Nina Berg"),),
        options=(
            OptionFacts("True-up", Decimal("2104.50"), "USD", "481 over the 1250 entitled."),
            OptionFacts("Upgrade", Decimal("3000.00"), "USD", "Enterprise plan.",
                        fees=Decimal("75.00"), fee_explanation="migration fee."),
        ),
        resolved_on=date(2026, 5, 2), compliant_figure=DayFigure(date(2026, 5, 1), 1249),
    )  # fmt: skip
    return replace(base, **changes)


def test_breach_notice_states_the_exact_counts_dates_and_contact():
    text = pdf_text(render_notice(facts(NoticeKind.BREACH_NOTICE)).pdf)

    assert "Notice of usage above entitlement" in text
    assert "1,250 seats" in text and "1,731 seats" in text and "481 above the entitlement" in text
    assert "1,562.5 seats (1.25 × the entitlement)" in text
    assert "4 consecutive days" in text and "Wednesday 11 March 2026" in text
    assert "Thu 12 Mar 2026 1,731 1,250 481" in text
    assert "31 December 2026 · Renews automatically on 1 January 2027" in text
    assert "Reply to this notice Nina Berg Fri 3 Apr 2026" in text
    assert "Maya Okafor" in text and "maya@example.com" in text and "+44 20 7946 0000" in text


def test_remediation_proposal_shows_license_fees_apart_from_other_fees():
    text = pdf_text(render_notice(facts(NoticeKind.REMEDIATION_PROPOSAL)).pdf)

    assert "Proposal to return to compliance" in text
    assert "True-up USD 2,104.50 none" in text
    assert "Upgrade USD 3,000.00 USD 75.00" in text
    assert "Other fees: migration fee." in text
    assert "Reply to this notice Nina Berg Fri 3 Apr 2026" in text


def test_resolution_confirmation_names_the_agreed_option_and_the_compliant_figure():
    agreed = facts(NoticeKind.RESOLUTION_CONFIRMATION).options
    notice = facts(NoticeKind.RESOLUTION_CONFIRMATION,
                   options=(replace(agreed[0], agreed=True), agreed[1]))  # fmt: skip

    text = pdf_text(render_notice(notice).pdf)

    assert "resolved as of 2 May 2026" in text
    assert "Agreed: True-up, license fees USD 2,104.50." in text
    assert "Upgrade" not in text
    assert "1,249 seats on 1 May 2026, at or below the 1,250 seats granted" in text


@pytest.mark.parametrize("kind", NoticeKind.values)
def test_a_notice_carries_the_sha256_of_its_bytes_and_the_same_facts_give_the_same_hash(kind):
    first, again = render_notice(facts(kind)), render_notice(facts(kind))

    assert first.pdf.startswith(b"%PDF-")
    assert first.sha256 == hashlib.sha256(first.pdf).hexdigest()
    assert again.sha256 == first.sha256
    assert render_notice(facts(kind, peak=1732)).sha256 != first.sha256
    assert first.filename == f"case-12-{kind.replace('_', '-')}-2026-03-20.pdf"


def test_markup_in_a_message_is_printed_as_text_and_loads_nothing():
    message = '<img src="http://attacker.example/x.png"> Thanks for the call.'

    text = pdf_text(render_notice(facts(NoticeKind.BREACH_NOTICE, message=message)).pdf)

    assert '<img src="http://attacker.example/x.png"> Thanks for the call.' in text
