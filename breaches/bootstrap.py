"""Reference rows for breaches: which roles may do what, and breach policy v1."""

import datetime

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

from licensing.roles import Role

READ = [
    "view_usagereport", "view_usagefigure", "view_usagewarning", "view_breachcase",
    "view_remediationoption", "view_earlieroveruse", "view_milestone", "view_communication",
    "view_communicationattachment", "view_breachnotice", "view_caseevent",
]  # fmt: skip
MANAGE = [
    "add_usagereport", "add_breachcase", "change_breachcase", "transition_breachcase",
    "change_remediationoption", "change_earlieroveruse", "add_milestone", "change_milestone",
    "add_communication", "add_breachnotice",
]  # fmt: skip

BREACH_ROLE_PERMISSIONS = {
    Role.ACCOUNT_MANAGER: READ + MANAGE,
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

    from breaches.policy import BREACH_RULES_V1, BREACH_SUMMARY_V1

    PolicyVersion = apps.get_model("licensing", "PolicyVersion")
    PolicyVersion.objects.get_or_create(
        kind="breach",
        number=1,
        defaults={
            "status": "published",
            "effective_from": datetime.date(2020, 1, 1),
            "rules": BREACH_RULES_V1,
            "summary": BREACH_SUMMARY_V1,
            "published_at": datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
        },
    )
