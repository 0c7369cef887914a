from django.db import migrations


def forwards(apps, schema_editor):
    # Breach policy v1 (tolerance 1.0, 3 consecutive days, warnings at 80% and 100%) and the
    # roles' permissions on the case models; both idempotent.
    from breaches.bootstrap import install_breach_reference_data

    install_breach_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("breaches", "0003_breach_cases"),
        ("licensing", "0010_policy_kind_breach"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
