"""Store each event's `data` as the canonical text that was hashed.

jsonb rewrites some numbers (-0.0, 1e20), so the JSON column alone cannot always give back the
bytes an event's hash covers. Events recorded before this migration are back-filled from that
column: for them it is still the best record there is (verification judged them by it).
"""

from django.db import migrations, models

from audit.chain import canonical

BATCH = 5000


def backfill(apps, schema_editor):
    AuditEvent = apps.get_model("audit", "AuditEvent")
    rows = AuditEvent.objects.filter(canonical_data__isnull=True).values_list("pk", "data")
    last = 0
    while batch := list(rows.filter(pk__gt=last).order_by("pk")[:BATCH]):
        AuditEvent.objects.bulk_update(
            [AuditEvent(pk=pk, canonical_data=canonical(data).decode()) for pk, data in batch],
            ["canonical_data"],
        )
        last = batch[-1][0]


class Migration(migrations.Migration):
    dependencies = [("audit", "0006_retention_and_redaction")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="canonical_data",
            field=models.TextField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
