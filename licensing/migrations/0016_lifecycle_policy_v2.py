"""Publish lifecycle policy v2: v1's summary promised 30 days of grace where a contract names
none, which nothing applies (grace is only what the contract grants). Published versions are
immutable, so v1 stays as it was, on the records made under it; v2 is in force from the day this
runs. A fresh install already has v2 from the start (``install_reference_data``)."""

from django.db import migrations
from django.utils import timezone


def publish_v2(apps, schema_editor):
    from licensing.bootstrap import LIFECYCLE_V2_RULES, LIFECYCLE_V2_SUMMARY

    PolicyVersion = apps.get_model("licensing", "PolicyVersion")
    PolicyVersion.objects.get_or_create(
        kind="lifecycle",
        number=2,
        defaults={
            "status": "published",
            "effective_from": timezone.localdate(),
            "rules": LIFECYCLE_V2_RULES,
            "summary": LIFECYCLE_V2_SUMMARY,
            "published_at": timezone.now(),
        },
    )


class Migration(migrations.Migration):
    dependencies = [("licensing", "0015_hold_blackout_policy")]

    operations = [migrations.RunPython(publish_v2, migrations.RunPython.noop)]
