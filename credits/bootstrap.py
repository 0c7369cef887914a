"""Reference rows for credits: role permissions and the default policy, version 1."""

import datetime

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

from licensing.roles import Role

from .policy_text import render_policy
from .rules import DEFAULT_RULES, parse_rules

READ = ["view_creditpolicyversion", "view_changerequest", "view_credit", "view_approvalstep",
        "view_accountentry", "view_dispute"]  # fmt: skip

CREDIT_ROLE_PERMISSIONS = {
    Role.ACCOUNT_MANAGER: READ + ["add_changerequest"],
    Role.FINANCE_ANALYST: READ + ["add_changerequest", "change_dispute"],
    Role.FINANCE_APPROVER: READ + ["change_dispute"],
    Role.FINANCIAL_CONTROLLER: READ + ["change_dispute", "add_creditpolicyversion"],
    Role.AUDITOR: READ,
}

DEFAULT_TITLE = "Credit policy"
DEFAULT_INTRODUCTION = (
    "When you downgrade, pause or end a subscription part-way through a period you have paid "
    "for, we give back the unused part. This page says exactly how, with worked examples "
    "computed by the same engine that prices your credits."
)


def install_credit_reference_data(apps=global_apps, *, create_perms: bool = True) -> None:
    if create_perms:
        app_config = apps.get_app_config("credits")
        had_models = getattr(app_config, "models_module", None)
        app_config.models_module = had_models or True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = had_models
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in CREDIT_ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=str(role))
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="credits", codename__in=codenames)
        )
    Policy = apps.get_model("credits", "CreditPolicyVersion")
    if not Policy.objects.exists():
        text, examples = render_policy(
            parse_rules(DEFAULT_RULES), title=DEFAULT_TITLE, introduction=DEFAULT_INTRODUCTION
        )
        Policy.objects.create(
            number=1,
            status="published",
            effective_from=datetime.date(2020, 1, 1),
            rules=DEFAULT_RULES,
            title=DEFAULT_TITLE,
            introduction=DEFAULT_INTRODUCTION,
            change_summary="First published version.",
            text=text,
            examples=examples,
            published_at=datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC),
        )
