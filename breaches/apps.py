from django.apps import AppConfig


class BreachesConfig(AppConfig):
    name = "breaches"

    def ready(self):
        from licensing.roles import Role
        from shell import registry

        registry.register_nav("Usage", "breaches_portal:usage", roles={Role.CUSTOMER}, order=25)
        registry.register_nav("Breach cases", "breaches:cases", roles=registry.STAFF_AND_ADMIN,
                              order=25)  # fmt: skip
        # Customers reach their cases from the portal's overview and their usage page.
        registry.register_action("portal:home", "Usage cases", "breaches_portal:cases",
                                 when=_has_cases)  # fmt: skip
        registry.register_seeder("breaches", _seed_demo, order=30)


def _has_cases(user, _customer) -> bool:
    from .portal_views import portal_cases

    return portal_cases(user).exists()


def _seed_demo(*, stdout, password: str) -> None:
    from django.core.management import call_command

    call_command("seed_demo_breaches", stdout=stdout)
