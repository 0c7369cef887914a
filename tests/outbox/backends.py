"""Mail backends for tests: a server that is down, and one that comes back after some failures."""

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend


class DownBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server down")


class FlakyBackend(LocmemBackend):
    """Refuses the first `failures` sends (class-wide), then delivers to django.core.mail.outbox."""

    failures = 0

    def send_messages(self, email_messages):
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise ConnectionRefusedError("mail server busy")
        return super().send_messages(email_messages)
