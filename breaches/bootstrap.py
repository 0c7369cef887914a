"""Reference rows for breaches: which roles may send and read usage reports."""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

from licensing.roles import Role

READ = ["view_usagereport", "view_usagefigure"]

BREACH_ROLE_PERMISSIONS = {
    Role.ACCOUNT_MANAGER: READ + ["add_usagereport"],
    Role.FINANCE_ANALYST: READ,
    Role.FINANCE_APPROVER: READ,
    Role.FINANCIAL_CONTROLLER: READ,
    Role.AUDITOR: READ,
}


def install_breach_reference_data(apps=global_apps, *, create_perms: bool = True) -> None:
    if create_perms:
        app_config = apps.get_app_config("breaches")
        had_models = getattr(app_config, "models_module", None)
        app_config.models_module = had_models or True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = had_models
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in BREACH_ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=str(role))
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="breaches", codename__in=codenames)
        )
