import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


def _backoff(attempt: int) -> int:
    # 1, 2, 4 ... minutes, at most an hour: a mail server back within the day gets the mail.
    return min(60 * 2 ** max(attempt - 1, 0), 3600)


@shared_task(bind=True, acks_late=True, max_retries=services.MAX_ATTEMPTS)
def send_mail(self, mail_id: int) -> bool:
    """Send one outbox mail; retry with backoff until it goes or the ceiling leaves it to a
    person (the admin lists unsent mail with its last error)."""
    try:
        return services.mail_send(mail_id=mail_id)
    except Exception as error:
        attempts = services.Mail.objects.filter(pk=mail_id).values_list("attempts", flat=True)
        attempt = attempts.first() or services.MAX_ATTEMPTS
        if attempt >= services.MAX_ATTEMPTS:
            logger.error("Mail %s not sent after %s attempts: %r", mail_id, attempt, error)
            return False
        if self.request.is_eager:
            # No broker (tasks in-process): no worker would wait out a countdown, so try again
            # now; the row's attempts bound it as they bound a worker's retries.
            return self.apply(args=(mail_id,)).get()
        raise self.retry(exc=error, countdown=_backoff(attempt)) from error


@shared_task(acks_late=True)
def send_unsent_mail() -> int:
    """Beat job: queue again every mail whose job was lost or is overdue. Safe to rerun."""
    ids = services.mail_unsent_ids()
    for mail_id in ids:
        send_mail.delay(mail_id)
    return len(ids)
