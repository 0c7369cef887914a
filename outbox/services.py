"""Queue a mail inside a transaction; send it after commit, once."""

import logging
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from . import attachments as attachment_renderers
from .models import Mail

logger = logging.getLogger(__name__)

# Longer than any send takes: a claim this old belongs to a worker that died mid-send.
CLAIM_LEASE = timedelta(minutes=10)
# After this many failed sends the mail waits for a person (the admin lists unsent mail).
MAX_ATTEMPTS = 8


def mail_enqueue(
    *, kind: str, to: Iterable[str], subject: str, body: str, html: str = "",
    attachments: Iterable[dict] = (),
) -> Mail | None:  # fmt: skip
    """Write the mail in the caller's transaction and send it by a task once that commits.

    If the change rolls back, so does its mail; if it commits, the mail is sent (retried with
    backoff) even when the mail server is down at that moment. None when nobody is to be told.
    `attachments` are `{"renderer": name, "kwargs": {...}, "filename": ..., "mimetype": ...}`,
    rendered by the task when it sends (see outbox.attachments).
    """
    spec = {"kind": kind, "to": to, "subject": subject, "body": body, "html": html,
            "attachments": attachments}  # fmt: skip
    return mail_enqueue_many([spec])[0]


def mail_enqueue_many(specs: Iterable[dict]) -> list[Mail | None]:
    """`mail_enqueue` for many mails at once (keyword dicts of its arguments), in one INSERT:
    the mails in the order given, None where nobody is to be told."""
    mails: list[Mail | None] = []
    for spec in specs:
        recipients = sorted({address for address in spec["to"] if address})
        attachments = list(spec.get("attachments", ()))
        for attachment in attachments:
            attachment_renderers.check(attachment)
        mails.append(
            Mail(
                kind=spec["kind"],
                recipients=recipients,
                subject=spec["subject"],
                body=spec["body"],
                html=spec.get("html", ""),
                attachments=attachments,
            )  # fmt: skip
            if recipients
            else None
        )
    Mail.objects.bulk_create([m for m in mails if m is not None], batch_size=1000)
    for mail in mails:
        if mail is not None:
            _send_on_commit(mail.pk)
    return mails


def _send_on_commit(mail_id: int) -> None:
    from .tasks import send_mail

    # robust: a broker that is down must not turn a committed change into an error page; the
    # mail stays unsent in the outbox and the periodic sweep queues it again.
    transaction.on_commit(lambda: send_mail.delay(mail_id), robust=True)


def mail_send(*, mail_id: int) -> bool:
    """Send the mail unless it was sent or another worker holds it. True when this call sent it.

    Raises the mail backend's error after releasing the claim, so the task retries.
    """
    now = timezone.now()
    claimed = (
        Mail.objects.filter(pk=mail_id, sent_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return False
    mail = Mail.objects.get(pk=mail_id)
    message = EmailMultiAlternatives(
        mail.subject, mail.body, settings.DEFAULT_FROM_EMAIL, mail.recipients
    )
    try:
        if mail.html:
            message.attach_alternative(mail.html, "text/html")
        for spec in mail.attachments:
            message.attach(spec["filename"], attachment_renderers.render(spec), spec["mimetype"])
        message.send()
    except Exception as error:
        Mail.objects.filter(pk=mail_id).update(claimed_at=None, last_error=repr(error)[:2000])
        raise
    # A worker dying between send() and this line sends the mail again after the lease: SMTP
    # gives no way to make that window zero, so it is kept to one statement.
    Mail.objects.filter(pk=mail_id).update(sent_at=timezone.now(), claimed_at=None, last_error="")
    return True


def mail_unsent_ids(*, older_than: timedelta = timedelta(minutes=5), now=None) -> list[int]:
    """Mail that should have gone and has not: its job was lost (broker down) or is failing."""
    now = now or timezone.now()
    return list(
        Mail.objects.filter(
            sent_at__isnull=True, attempts__lt=MAX_ATTEMPTS, created_at__lt=now - older_than
        )
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
