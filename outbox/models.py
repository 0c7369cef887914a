from django.db import models
from django.utils import timezone

from audit.sealing import EncryptedJSONField, EncryptedTextField


class Mail(models.Model):
    """One e-mail to send. Written in the transaction of the change it tells of, so a change is
    never committed without its mail; a task sends it after commit and records `sent_at`."""

    kind = models.CharField(max_length=80, help_text="What the mail tells of, e.g. credit.escalate")
    subject = models.TextField()
    # What a mail says and to whom is personal data: sealed at rest (audit.sealing), clear in
    # Python, so the sender sends clear text; never filtered or searched on.
    body = EncryptedTextField()
    html = EncryptedTextField(blank=True, help_text="The HTML alternative of the body, if any")
    # What to attach, rendered by the sending task (never in the request): a renderer's name as
    # registered in outbox.attachments, its keyword arguments and the file name.
    attachments = models.JSONField(default=list, blank=True)
    recipients = EncryptedJSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    # A sender claims the row before sending (a conditional update), so two workers holding the
    # same job never both send; a claim older than the lease is taken over.
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["sent_at", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind}: {self.subject}"
