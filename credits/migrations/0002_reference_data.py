from django.db import migrations


def forwards(apps, schema_editor):
    from credits.bootstrap import install_credit_reference_data

    install_credit_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0001_initial"),
        ("licensing", "0004_invoice_permissions"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
