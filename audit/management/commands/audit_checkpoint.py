from django.core.management.base import BaseCommand

from audit.checkpoints import checkpoint_path, checkpoint_write


class Command(BaseCommand):
    help = "Append the audit chain's head (seq, hash, HMAC) to the checkpoint file."

    def handle(self, *args, **options):
        checkpoint = checkpoint_write()
        if checkpoint is None:
            self.stdout.write(f"Nothing new to checkpoint in {checkpoint_path()}.")
            return
        self.stdout.write(self.style.SUCCESS(f"Wrote {checkpoint}."))
