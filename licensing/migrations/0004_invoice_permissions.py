from django.db import migrations


def forwards(apps, schema_editor):
    from licensing.bootstrap import install_reference_data

    install_reference_data(apps)


class Migration(migrations.Migration):
    dependencies = [("licensing", "0003_historicalcustomermembership_historicalinvoice_and_more")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
