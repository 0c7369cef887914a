from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from audit.sealing import encrypted_columns, reseal_column


class Command(BaseCommand):
    help = (
        "Reseal every encrypted personal-data column under the first of PERSONAL_DATA_KEYS. "
        "Rotate by putting a new key first, running this, then dropping the old key. Works on "
        "the raw columns (no history rows, no signals); safe to run twice."
    )

    def handle(self, *args, **options):
        total = 0
        for table, column, pk in encrypted_columns(apps.get_models()):
            with transaction.atomic():
                count = reseal_column(connection, table, column, pk=pk)
            total += count
            self.stdout.write(f"{table}.{column}: {count} values resealed")
        self.stdout.write(self.style.SUCCESS(f"{total} values resealed under the first key."))
