"""An issued notice reaches the customer: e-mailed to its contacts through the outbox once the
issue commits, with the stored PDF attached (read back with pdftotext), and logged on the case."""

import hashlib
import re
import shutil
import subprocess

import pytest
from django.core import mail as sent_mail

from breaches.models import Communication
from breaches.notices import breach_notice_issue
from outbox.models import Mail
from tests.breaches.support import ON, march_case, move

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not shutil.which("pdftotext"), reason="needs poppler-utils"),
]


def pdf_text(pdf: bytes) -> str:
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                          check=True)  # fmt: skip
    return re.sub(r"\s+", " ", done.stdout.decode())


@pytest.fixture
def confirmed(manager, customer_a, customer_user):
    customer_user.email = "nina@northwind.test"
    customer_user.save()
    return move(manager, march_case(manager, customer_a), "review", "confirm")


def test_a_breach_notice_is_mailed_to_the_customers_contacts_with_the_pdf_attached(
    manager, customer_a, confirmed, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    with django_capture_on_commit_callbacks(execute=True):
        notice = breach_notice_issue(actor=manager, case_id=confirmed.pk, kind="breach_notice",
                                     on=ON, reason="Issued from the case page")  # fmt: skip

    [message] = sent_mail.outbox
    assert sorted(message.to) == sorted([customer_a.billing_email, "nina@northwind.test"])
    assert message.subject == f"Usage above your entitlement: {confirmed.entitlement.name}"
    assert "attached as a PDF" in message.body
    [(filename, content, mimetype)] = message.attachments
    assert mimetype == "application/pdf" and filename.endswith(".pdf")
    assert filename.startswith(f"case-{confirmed.pk}-breach-notice-")
    assert hashlib.sha256(content).hexdigest() == notice.sha256
    text = pdf_text(content)
    assert "60 seats, 10 above the entitlement" in text
    assert "Wednesday 11 March 2026" in text
    entry = Communication.objects.get(case=confirmed, kind="email", template="breach_notice")
    assert entry.mail.attachments[0]["kwargs"] == {"notice_id": notice.pk}
    assert confirmed.events.filter(kind="communication", communication=entry).exists()


def test_a_notice_is_sent_only_once_the_issue_commits(manager, confirmed, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    breach_notice_issue(actor=manager, case_id=confirmed.pk, kind="breach_notice", on=ON,
                        reason="Issued")  # fmt: skip

    # Still inside the test's transaction: written to the outbox, not yet sent.
    assert sent_mail.outbox == []
    assert Mail.objects.filter(kind="breach.breach_notice", sent_at__isnull=True).count() == 1
