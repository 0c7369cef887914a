"""Grant the retention policy permissions (licensing.roles): account managers draft and publish
retention policies, as they do the other policies; auditors read them."""

from django.db import migrations


def forwards(apps, schema_editor):
    from licensing.bootstrap import install_reference_data

    install_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("licensing", "0019_delivery_covered_by"),
        ("audit", "0008_retention_policy_v2"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
