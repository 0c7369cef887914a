from django.apps import AppConfig


class BreachesConfig(AppConfig):
    name = "breaches"

    def ready(self):
        from licensing.roles import Role
        from outbox import attachments
        from shell import registry

        from . import mail

        attachments.register(mail.CASE_FILE_RENDERER, mail.render_case_file)
        attachments.register(mail.NOTICE_RENDERER, mail.render_notice)

        registry.register_nav("Usage", "breaches_portal:usage", roles={Role.CUSTOMER}, order=25)
        registry.register_nav("Breach cases", "breaches:cases", roles=registry.STAFF_AND_ADMIN,
                              order=25)  # fmt: skip
        # Customers reach their cases from the portal's overview and their usage page.
        registry.register_action("portal:home", "Usage cases", "breaches_portal:cases",
                                 when=_has_cases)  # fmt: skip
        registry.register_seeder("breaches", _seed_demo, order=30)

        from audit.registry import register_governance_panel

        from .governance import breaches_panel

        register_governance_panel("breaches", "Breach cases", breaches_panel, order=30)


def _has_cases(user, _customer) -> bool:
    from .portal_views import portal_cases

    return portal_cases(user).exists()


def _seed_demo(*, stdout, password: str) -> None:
    from django.core.management import call_command

    call_command("seed_demo_breaches", stdout=stdout)
