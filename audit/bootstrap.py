"""Reference rows for audit: the first retention policy (by migration, and after a test flush)."""

import datetime

from django.apps import apps as global_apps

from .retention import DEFAULT_RULES

SUMMARY_V1 = (
    "First published version: audit events are redacted after seven years (their hashes stay, "
    "so the log still verifies), verification results deleted after 400 days."
)


def install_audit_reference_data(apps=global_apps) -> None:
    Policy = apps.get_model("audit", "RetentionPolicyVersion")
    Policy.objects.get_or_create(
        number=1,
        defaults={
            "status": "published",
            "effective_from": datetime.date(2020, 1, 1),
            "rules": DEFAULT_RULES,
            "summary": SUMMARY_V1,
            "published_at": datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
        },
    )
