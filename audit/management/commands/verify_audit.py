from django.core.management.base import BaseCommand, CommandError

from audit.checkpoints import checkpoints_problem
from audit.selectors import audit_verify_chain


class Command(BaseCommand):
    help = "Verify the audit hash chain; exit non-zero naming the first bad event."

    def handle(self, *args, **options):
        report = audit_verify_chain()
        if not report.ok:
            raise CommandError(
                f"Audit chain broken at event id {report.first_bad_id}: {report.problem} "
                f"({report.checked} events verified before it)."
            )
        problem = checkpoints_problem()
        if problem:
            raise CommandError(f"Audit chain fails its checkpoints: {problem}.")
        self.stdout.write(self.style.SUCCESS(f"Audit chain intact: {report.checked} events."))
