import importlib
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from audit.sealing import TOKEN_PREFIX
from outbox import services, tasks
from outbox.models import Mail
from tests.outbox.backends import FlakyBackend

DOWN = "tests.outbox.backends.DownBackend"
FLAKY = "tests.outbox.backends.FlakyBackend"

pytestmark = pytest.mark.django_db


def enqueue(**overrides):
    given = {"kind": "test.notice", "to": ["b@example.com", "a@example.com", ""],
             "subject": "Your notice", "body": "What happened, in plain words."}  # fmt: skip
    return services.mail_enqueue(**{**given, **overrides})


def test_a_committed_mail_is_sent_after_commit_with_its_content(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        queued = enqueue()
        assert mail.outbox == []  # nothing leaves before the change commits

    assert len(callbacks) == 1
    [sent] = mail.outbox
    assert (sent.subject, sent.body) == ("Your notice", "What happened, in plain words.")
    assert sent.to == ["a@example.com", "b@example.com"]
    queued.refresh_from_db()
    assert queued.sent_at is not None and queued.attempts == 1 and queued.claimed_at is None


def test_a_rolled_back_change_takes_its_mail_with_it(django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        enqueue()
        raise RuntimeError("the change failed")

    assert not Mail.objects.exists()
    assert mail.outbox == []


def test_nobody_to_tell_queues_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert enqueue(to=["", ""]) is None

    assert callbacks == [] and not Mail.objects.exists()


def test_a_duplicate_or_retried_job_sends_nothing_twice(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queued = enqueue()

    assert tasks.send_mail.delay(queued.pk).get() is False
    assert tasks.send_mail.delay(queued.pk).get() is False
    assert len(mail.outbox) == 1


def test_a_mail_another_worker_holds_is_left_to_it():
    queued = enqueue()
    Mail.objects.filter(pk=queued.pk).update(claimed_at=timezone.now())

    assert services.mail_send(mail_id=queued.pk) is False
    assert mail.outbox == []


def test_a_claim_older_than_the_lease_is_taken_over():
    queued = enqueue()
    stale = timezone.now() - services.CLAIM_LEASE - timedelta(seconds=1)
    Mail.objects.filter(pk=queued.pk).update(claimed_at=stale)

    assert services.mail_send(mail_id=queued.pk) is True
    assert len(mail.outbox) == 1


def test_a_failing_mail_server_is_retried_until_the_mail_goes(
    settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = FLAKY
    FlakyBackend.failures = 2

    with django_capture_on_commit_callbacks(execute=True):
        queued = enqueue()

    queued.refresh_from_db()
    assert queued.attempts == 3
    assert queued.sent_at is not None and queued.last_error == ""
    [sent] = mail.outbox
    assert sent.subject == "Your notice"


def test_a_mail_server_down_for_good_leaves_the_mail_unsent_for_a_person(
    settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = DOWN

    with django_capture_on_commit_callbacks(execute=True):
        queued = enqueue()  # the change commits; the failure stays with the mail

    queued.refresh_from_db()
    assert queued.sent_at is None and queued.claimed_at is None
    assert queued.attempts == services.MAX_ATTEMPTS
    assert "mail server down" in queued.last_error
    later = timezone.now() + timedelta(hours=1)
    assert services.mail_unsent_ids(now=later) == []  # the sweep does not hammer it further


def test_the_sweep_sends_mail_whose_job_was_lost():
    # Queued, committed, but its job never reached a worker (the broker was down at commit).
    queued = enqueue()
    Mail.objects.filter(pk=queued.pk).update(created_at=timezone.now() - timedelta(minutes=6))

    assert tasks.send_unsent_mail.delay().get() == 1
    assert tasks.send_unsent_mail.delay().get() == 0
    assert len(mail.outbox) == 1


def _raw_mail(mail_id: int, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM outbox_mail WHERE id = %s", [mail_id])
        return cursor.fetchone()[0]


def test_a_mail_is_sealed_at_rest_and_sent_in_clear(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        queued = enqueue(to=["jane@example.com"], body="Dear Jane, ...", html="<p>Dear Jane</p>")

    for column in ("body", "html", "recipients"):
        stored = _raw_mail(queued.pk, column)
        assert stored.startswith(TOKEN_PREFIX) and "Jane" not in stored and "jane" not in stored
    [sent] = mail.outbox
    assert (sent.to, sent.body) == (["jane@example.com"], "Dear Jane, ...")
    assert sent.alternatives[0][0] == "<p>Dear Jane</p>"


def test_the_migration_seals_mail_written_in_clear_before_it():
    queued = Mail.objects.create(kind="test", subject="s", body="x", recipients=["x@example.com"])
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE outbox_mail SET body = %s, html = %s, recipients = %s WHERE id = %s",
            ["Dear Jane", "<p>Dear Jane</p>", '["jane@example.com"]', queued.pk],
        )
    migration = importlib.import_module("outbox.migrations.0003_personal_data_encrypted")

    migration.seal_existing(None, connection.schema_editor())
    migration.seal_existing(None, connection.schema_editor())  # twice: nothing sealed twice

    for column in ("body", "html", "recipients"):
        assert _raw_mail(queued.pk, column).startswith(TOKEN_PREFIX)
    stored = Mail.objects.get(pk=queued.pk)
    assert (stored.body, stored.html, stored.recipients) == (
        "Dear Jane",
        "<p>Dear Jane</p>",
        ["jane@example.com"],
    )
