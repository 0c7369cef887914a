"""Issue 9, defect 8: an escalation whose e-mail fails is still one unit. The case is escalated
with its audit event, and the mail, queued on commit through the outbox's retried task, goes
once the mail server answers; a server down for good leaves it unsent for a person, never lost."""

from datetime import timedelta

import pytest
from django.core import mail

from audit.models import AuditEvent
from breaches.models import BreachCase
from breaches.tasks import process_milestones
from outbox.models import Mail
from outbox.services import MAX_ATTEMPTS
from tests.breaches.support import current_case, move
from tests.outbox.backends import FlakyBackend

pytestmark = pytest.mark.django_db

OVERDUE = "breach.milestone_overdue"


@pytest.fixture
def offered(manager, customer_a, customer_user, today):
    customer_user.email = "nina@northwind.test"
    customer_user.save()
    manager.email = "maya@licensedesk.test"
    manager.save()
    return move(manager, current_case(manager, customer_a), "review", "confirm", "offer", on=today)


def _escalate(offered, pinned_clock, capture):
    pinned_clock.shift(timedelta(days=15))  # the offer's milestone passed undone
    with capture(execute=True):
        process_milestones.delay().get()
    return BreachCase.objects.get(pk=offered.pk)


def test_an_escalation_whose_mail_fails_at_first_is_audited_and_mailed_on_retry(
    offered, settings, pinned_clock, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.outbox.backends.FlakyBackend"
    FlakyBackend.failures = 2

    case = _escalate(offered, pinned_clock, django_capture_on_commit_callbacks)

    assert case.state == "escalated"
    assert AuditEvent.objects.filter(action="breach_case.escalate").count() == 1
    queued = Mail.objects.get(kind=OVERDUE)
    assert queued.sent_at is not None and queued.attempts == 3 and queued.last_error == ""
    assert [m.subject for m in mail.outbox] == [queued.subject]


def test_an_escalation_whose_mail_server_is_down_is_kept_with_its_unsent_mail(
    offered, settings, pinned_clock, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.outbox.backends.DownBackend"

    case = _escalate(offered, pinned_clock, django_capture_on_commit_callbacks)

    assert case.state == "escalated"
    assert AuditEvent.objects.filter(action="breach_case.escalate").count() == 1
    queued = Mail.objects.get(kind=OVERDUE)
    assert queued.sent_at is None and queued.attempts == MAX_ATTEMPTS
    assert "mail server down" in queued.last_error
    assert mail.outbox == []
