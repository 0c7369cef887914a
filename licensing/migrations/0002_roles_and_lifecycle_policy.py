import datetime

from django.contrib.auth.management import create_permissions
from django.db import migrations

from licensing.roles import ROLE_PERMISSIONS

LIFECYCLE_RULES = {
    "default_grace_days": 30,
    "reason_required": True,
    "holding_states": ["active", "suspended", "grace", "held", "restored"],
}
LIFECYCLE_SUMMARY = (
    "Every lifecycle change records who made it, when and why. A grace period lasts the days "
    "the contract permits, or 30 days where it names none. A suspended, held or in-grace "
    "entitlement still counts as held by the customer; revoked and expired ones do not."
)


def forwards(apps, schema_editor):
    # Permissions are normally created after migrations; roles need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=str(role))
        wanted = [
            Permission.objects.get(content_type__app_label=app, codename=codename)
            for app, codename in perms
        ]
        group.permissions.set(wanted)
    PolicyVersion = apps.get_model("licensing", "PolicyVersion")
    PolicyVersion.objects.get_or_create(
        kind="lifecycle",
        number=1,
        defaults={
            "status": "published",
            "effective_from": datetime.date(2020, 1, 1),
            "rules": LIFECYCLE_RULES,
            "summary": LIFECYCLE_SUMMARY,
            "published_at": datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
        },
    )


class Migration(migrations.Migration):
    dependencies = [
        ("licensing", "0001_initial"),
        ("audit", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
