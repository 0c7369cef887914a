from django.apps import AppConfig


class ShellConfig(AppConfig):
    """The page furniture every app plugs into: navigation, role home pages, object actions,
    demo data, and how a refused action or a missing role reaches the person."""

    name = "shell"
    verbose_name = "Shell"

    def ready(self):
        from . import registry

        # The project's own pages, outside every domain app.
        registry.register_nav("API", "api-docs", roles=registry.STAFF_AND_ADMIN, order=90)
        registry.register_nav("Admin", "admin:index", roles={registry.ADMIN}, order=99,
                              name="admin")  # fmt: skip
