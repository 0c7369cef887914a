"""Publish retention policy v2: change history rows are purged too (the `history` rule).
Published versions are immutable, so v1 stays as it was, on the purges made under it; v2 is in
force from the day this runs. A fresh install already has v2 from the start
(``install_audit_reference_data``)."""

from django.db import migrations
from django.db.models import Max
from django.utils import timezone


def publish_v2(apps, schema_editor):
    from audit.bootstrap import SUMMARY_V2
    from audit.retention import DEFAULT_RULES

    Policy = apps.get_model("audit", "RetentionPolicyVersion")
    if Policy.objects.filter(status="published", rules__has_key="history").exists():
        return  # a fresh install, or a rerun
    # The next number: a draft somebody saved meanwhile keeps its own.
    number = (Policy.objects.aggregate(top=Max("number"))["top"] or 0) + 1
    Policy.objects.create(
        number=number,
        status="published",
        effective_from=timezone.localdate(),
        rules=DEFAULT_RULES,
        summary=SUMMARY_V2,
        published_at=timezone.now(),
    )


class Migration(migrations.Migration):
    dependencies = [("audit", "0007_canonical_data")]

    operations = [migrations.RunPython(publish_v2, migrations.RunPython.noop)]
