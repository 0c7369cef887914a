from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self):
        from . import transactions
        from .registry import register_event_names

        transactions.connect()

        register_event_names({
            "audit.purge": "Redacted by the retention purge",
            "audit.head_recreated": "Chain head recreated",
            "sign_in.lockout_clear": "Lockout cleared",
        })  # fmt: skip
