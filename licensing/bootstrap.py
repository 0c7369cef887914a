"""Reference rows every installation needs: role groups with their permissions, policy versions.

Called by the data migration (with historical models) and by test setup after a flush.
"""

import datetime

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

from .roles import ROLE_PERMISSIONS

# Lifecycle v1 as it was published (immutable): its "30 days where it names none" was never
# applied, grace being only what the contract grants; v2 says so (migration 0015).
LIFECYCLE_RULES = {
    "default_grace_days": 30,
    "reason_required": True,
    "holding_states": ["active", "suspended", "grace", "held", "restored"],
}
LIFECYCLE_SUMMARY = (
    "Every lifecycle change records who made it, when and why. A grace period lasts the days "
    "the contract permits, or 30 days where it names none. A suspended, held or in-grace "
    "entitlement still counts as held by the customer; revoked and expired ones do not."
)
LIFECYCLE_V2_RULES = {
    "reason_required": True,
    "holding_states": ["active", "suspended", "grace", "held", "restored"],
}
LIFECYCLE_V2_SUMMARY = (
    "Every lifecycle change records who made it, when and why. A grace period lasts exactly the "
    "days the contract grants; a contract that grants none gives no grace, and the entitlement "
    "is revoked at once. A suspended, held or in-grace entitlement still counts as held by the "
    "customer; revoked and expired ones do not.\n\n"
    "Changed from v1: v1 said a grace period lasted 30 days where the contract names none. No "
    "such default was ever applied (grace is only what the contract grants), so that sentence "
    "and its default_grace_days rule are gone. Nothing else changes."
)

REVOCATION_RULES = {
    "triggers": ["termination", "term_end", "nonpayment", "breach"],
    "nonpayment_days_after_due": 30,
    "notice_lead_days": 0,
    # Grace is what the contract grants (its grace_days), capped here; never a default.
    "max_grace_days": 90,
    "revoke_order": ["api_quota", "feature_flag", "role_permission", "product_key", "seat_pool"],
    "delete_at_identity_providers": False,
    "suppress_renewal": True,
    "max_attempts": 5,
}
REVOCATION_SUMMARY = (
    "When a contract ends, renewal stops at once and the customer is told. On the effective date "
    "(no notice lead days) everything it granted is revoked, kind by kind, and every connected "
    "system is told; identity providers deactivate holders rather than delete them. Grace applies "
    "only where the contract grants it, never longer. A delivery is tried five times, then a "
    "person reviews it."
)


def install_reference_data(apps=global_apps, *, create_perms: bool = True) -> None:
    # Permissions are normally created after migrations; roles need them now.
    for app_config in apps.get_app_configs() if create_perms else []:
        had_models = getattr(app_config, "models_module", None)
        app_config.models_module = had_models or True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = had_models
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=str(role))
        # Add, never replace: other apps grant the same groups their own permissions. A
        # permission whose model a later migration creates is added by that migration's rerun.
        for app in {app for app, _ in perms}:
            codenames = [codename for label, codename in perms if label == app]
            group.permissions.add(
                *Permission.objects.filter(content_type__app_label=app, codename__in=codenames)
            )
    PolicyVersion = apps.get_model("licensing", "PolicyVersion")
    PolicyVersion.objects.get_or_create(
        kind="lifecycle",
        number=1,
        defaults={
            "status": "published",
            "effective_from": datetime.date(2020, 1, 1),
            "rules": LIFECYCLE_RULES,
            "summary": LIFECYCLE_SUMMARY,
            "published_at": datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
        },
    )
    # A fresh install starts under v2 (in force from the same day as v1, so it supersedes it
    # everywhere); an existing one gets v2 from the day migration 0015 runs.
    PolicyVersion.objects.get_or_create(
        kind="lifecycle",
        number=2,
        defaults={
            "status": "published",
            "effective_from": datetime.date(2020, 1, 1),
            "rules": LIFECYCLE_V2_RULES,
            "summary": LIFECYCLE_V2_SUMMARY,
            "published_at": datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
        },
    )
    PolicyVersion.objects.get_or_create(
        kind="revocation",
        number=1,
        defaults={
            "status": "published",
            "effective_from": datetime.date(2020, 1, 1),
            "rules": REVOCATION_RULES,
            "summary": REVOCATION_SUMMARY,
            "published_at": datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
        },
    )
