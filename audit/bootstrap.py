"""Reference rows for audit: the retention policies (by migration, and after a test flush)."""

import datetime

from django.apps import apps as global_apps

from .retention import DEFAULT_RULES, V1_RULES

SUMMARY_V1 = (
    "First published version: audit events are redacted after seven years (their hashes stay, "
    "so the log still verifies), verification results deleted after 400 days."
)
SUMMARY_V2 = (
    "Change history rows (the before-and-after copies every audited record keeps) are deleted "
    "after seven years. The newest row of a record that still exists always stays, and a legal "
    "hold or data preservation hold on a contract keeps the history of the contract and of "
    "everything belonging to it. Changed from v1: v1 kept change history for ever. Audit events "
    "and verification results are kept as before."
)
START = datetime.date(2020, 1, 1)


def install_audit_reference_data(apps=global_apps) -> None:
    Policy = apps.get_model("audit", "RetentionPolicyVersion")
    published_at = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    Policy.objects.get_or_create(
        number=1,
        defaults={"status": "published", "effective_from": START, "rules": V1_RULES,
                  "summary": SUMMARY_V1, "published_at": published_at},
    )  # fmt: skip
    # A fresh install starts under v2 (in force from the same day as v1, so it supersedes it
    # everywhere); an existing one gets v2 from the day migration 0008 runs.
    Policy.objects.get_or_create(
        number=2,
        defaults={"status": "published", "effective_from": START, "rules": DEFAULT_RULES,
                  "summary": SUMMARY_V2, "published_at": published_at},
    )  # fmt: skip
