from django.db import migrations


def forwards(apps, schema_editor):
    from breaches.bootstrap import install_breach_reference_data

    install_breach_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("breaches", "0001_usage"),
        ("licensing", "0004_invoice_permissions"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
