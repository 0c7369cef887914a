"""Credits' e-mail goes through the outbox: one unit with its change, sent after commit, once."""

from datetime import timedelta

import pytest
from django.core import mail

from audit.models import AuditEvent
from credits import services
from outbox import services as outbox_services
from outbox.models import Mail
from outbox.tasks import send_mail
from tests.support import downgrade

pytestmark = pytest.mark.django_db


def test_an_escalation_whose_mail_fails_is_still_escalated_audited_and_mailed_later(
    settings, manager, controller, seat_contract, django_capture_on_commit_callbacks
):
    controller.email = "grace@example.com"
    controller.save()
    credit = downgrade(manager, seat_contract, 20).credit
    step = credit.steps.get()
    overdue = step.due_at + timedelta(minutes=1)
    settings.EMAIL_BACKEND = "tests.outbox.backends.DownBackend"

    with django_capture_on_commit_callbacks(execute=True):
        counts = services.process_approval_deadlines(now=overdue)

    assert counts["escalated"] == 1
    step.refresh_from_db()
    assert step.escalated_at == overdue
    assert (
        step.history.filter(escalated_at=overdue)
        .latest()
        .history_change_reason.startswith("Overdue: escalated")
    )
    assert (
        AuditEvent.objects.filter(action="credit.escalate", object_id=str(credit.pk)).count() == 1
    )
    escalation = Mail.objects.get(kind="credit.escalate")
    assert escalation.sent_at is None
    assert escalation.attempts == outbox_services.MAX_ATTEMPTS  # retried, then left to a person
    assert mail.outbox == []

    # The mail server is back; whoever sends the mail again sends it once, with its content.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    Mail.objects.filter(pk=escalation.pk).update(attempts=0)
    send_mail.delay(escalation.pk)
    send_mail.delay(escalation.pk)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.process_approval_deadlines(now=overdue)["escalated"] == 0

    [sent] = [m for m in mail.outbox if m.subject.startswith("Escalated")]
    assert sent.to == ["grace@example.com"]
    assert f"Escalated: {credit} is overdue" == sent.subject
    assert "passed its deadline; you may decide it." in sent.body
