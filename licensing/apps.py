from django.apps import AppConfig


class LicensingConfig(AppConfig):
    name = "licensing"
    verbose_name = "Licensing"

    def ready(self):
        from shell import registry

        from .roles import Role

        staff = registry.STAFF_AND_ADMIN
        # The audit log is the auditor's home, so it comes first for them.
        registry.register_nav("Audit log", "audit:events", roles={Role.AUDITOR}, order=0)
        registry.register_nav("Dashboard", "licensing:dashboard", roles=staff, order=10)
        registry.register_nav("Contracts", "licensing:contracts", roles=staff, order=20)
        registry.register_nav("Audit log", "audit:events", roles={registry.ADMIN}, order=40)
        registry.register_nav("Governance", "audit:governance",
                              roles={Role.AUDITOR, Role.FINANCIAL_CONTROLLER, registry.ADMIN},
                              order=41)  # fmt: skip
        # Managers draft retention policies, as the other policies; auditors and administrators
        # reach them from the audit log's tabs.
        registry.register_nav("Retention", "audit:retention", roles={Role.ACCOUNT_MANAGER},
                              order=45)  # fmt: skip
        registry.register_nav("Overview", "portal:home", roles={Role.CUSTOMER}, order=10)
        registry.register_nav("Entitlements", "portal:entitlements", roles={Role.CUSTOMER},
                              order=20)  # fmt: skip

        registry.register_home("licensing:dashboard", roles=staff)
        registry.register_home("audit:events", roles={Role.AUDITOR}, priority=10)
        registry.register_home("portal:home", roles={Role.CUSTOMER})

        registry.register_seeder("licensing", _seed_demo, order=10)

        from audit.registry import register_hold_source

        from .deprovisioning.retention import legal_hold_records

        # Legal holds stop the audit retention purge for what they cover.
        register_hold_source("licensing.legal_hold", legal_hold_records)

        from audit.registry import register_governance_panel

        from .deprovisioning.governance import deprovisioning_panel

        register_governance_panel("deprovisioning", "Deprovisioning", deprovisioning_panel,
                                  order=20)  # fmt: skip
        from .deprovisioning.registration import register as register_deprovisioning

        register_deprovisioning()

        from django.conf import settings
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import pre_save

        from . import authentication

        pre_save.connect(
            authentication.revoke_tokens_on_password_change,
            sender=settings.AUTH_USER_MODEL,
            dispatch_uid="revoke-tokens-on-password-change",
        )
        user_logged_out.connect(
            authentication.revoke_tokens_on_logout, dispatch_uid="revoke-on-logout"
        )


def _seed_demo(*, stdout, password: str) -> None:
    from django.core.management import call_command

    call_command("seed_demo_licensing", password=password, stdout=stdout)
