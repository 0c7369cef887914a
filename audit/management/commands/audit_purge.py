from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit.retention import RetentionError, retention_purge


class Command(BaseCommand):
    help = (
        "Carry out the retention policy in force today: redact due audit events (their hashes and "
        "leaf hashes stay, so the chain and the Merkle proofs still verify), delete old "
        "verification results and change history rows (each live record's newest row stays), leave "
        "what a legal hold covers. Safe to run twice."
    )

    def handle(self, *args, **options):
        try:
            report = retention_purge(on=timezone.localdate())
        except RetentionError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(str(report))
        if report.refused:
            raise CommandError(
                f"Events {report.refused[:10]} fail verification and were not redacted: run "
                "verify_audit."
            )
