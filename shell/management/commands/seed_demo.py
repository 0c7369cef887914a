"""Demo data for every installed app: each app's registered part, in order (safe to run twice)."""

import logging

from django.core.management.base import BaseCommand
from django.test.utils import override_settings

from shell import registry


class Command(BaseCommand):
    help = "Create demo data for every app (licensing first, then the apps standing on it)."

    def add_arguments(self, parser):
        parser.add_argument("--password", default="demo", help="Password for every demo login.")

    def handle(self, *args, password: str, **options):
        # The demo's history sends dozens of notices: keep them in memory (the outbox still
        # records each as sent) and Celery's eager "task succeeded" lines out of the console, so
        # what `make run` prints is the logins and what was made.
        quiet = [logging.getLogger("celery.app.trace")]
        levels = [logger.level for logger in quiet]
        for logger in quiet:
            logger.setLevel(logging.WARNING)
        try:
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
                for _name, seed in registry.seeders():
                    seed(stdout=self.stdout, password=password)
        finally:
            for logger, level in zip(quiet, levels, strict=True):
                logger.setLevel(level)
