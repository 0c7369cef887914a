"""Demo data for every installed app: each app's registered part, in order (safe to run twice)."""

from django.core.management.base import BaseCommand

from shell import registry


class Command(BaseCommand):
    help = "Create demo data for every app (licensing first, then the apps standing on it)."

    def add_arguments(self, parser):
        parser.add_argument("--password", default="demo", help="Password for every demo login.")

    def handle(self, *args, password: str, **options):
        for _name, seed in registry.seeders():
            seed(stdout=self.stdout, password=password)
