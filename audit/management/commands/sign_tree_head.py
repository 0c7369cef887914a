from django.core.management.base import BaseCommand

from audit.tree import tree_head_sign


class Command(BaseCommand):
    help = "Sign and store the Merkle tree head for the current number of audit events."

    def handle(self, *args, **options):
        head = tree_head_sign()
        self.stdout.write(
            self.style.SUCCESS(f"Tree head for {head.tree_size} events: {head.root_hash}")
        )
