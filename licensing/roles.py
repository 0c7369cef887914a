"""The roles people work in; each is a Django group created by a data migration."""

from django.db import models


class Role(models.TextChoices):
    ACCOUNT_MANAGER = "account_manager", "Account manager"
    FINANCE_ANALYST = "finance_analyst", "Finance analyst"
    FINANCE_APPROVER = "finance_approver", "Finance approver"
    FINANCIAL_CONTROLLER = "financial_controller", "Financial controller"
    AUDITOR = "auditor", "Auditor"
    CUSTOMER = "customer", "Customer"


# What `role_of` answers for a superuser: not a group, so not a Role, yet allowed what staff are.
ADMIN = "admin"

STAFF_ROLES = frozenset(Role) - {Role.CUSTOMER}
FINANCE_ROLES = frozenset({Role.FINANCE_ANALYST, Role.FINANCE_APPROVER, Role.FINANCIAL_CONTROLLER})

VIEW_CATALOGUE = [
    "view_customer", "view_product", "view_plan", "view_bundle", "view_bundleitem",
    "view_connectedsystem", "view_contract", "view_contractline", "view_entitlement",
    "view_ledgerentry", "view_policyversion", "view_invoice", "view_invoiceline",
    "view_assignment", "view_deprovisioningrun", "view_delivery", "view_deprovisioninghold",
    "view_blackoutwindow",
]  # fmt: skip

# Permissions per role, as (app_label, codename). Applied by migration and by seed_demo.
ROLE_PERMISSIONS: dict[str, list[tuple[str, str]]] = {
    Role.ACCOUNT_MANAGER: [("licensing", p) for p in VIEW_CATALOGUE]
    + [
        ("licensing", p)
        for p in (
            "add_customer",
            "change_customer",
            "add_contract",
            "change_contract",
            "add_contractline",
            "add_entitlement",
            "change_entitlement",
            "transition_contract",
            "transition_entitlement",
            "add_assignment",
            "change_deprovisioningrun",
            "add_deprovisioninghold",
            "change_deprovisioninghold",
            "add_blackoutwindow",
            "add_policyversion",
            "change_policyversion",
        )
    ],  # fmt: skip
    Role.FINANCE_ANALYST: [("licensing", p) for p in VIEW_CATALOGUE],
    Role.FINANCE_APPROVER: [("licensing", p) for p in VIEW_CATALOGUE],
    Role.FINANCIAL_CONTROLLER: [("licensing", p) for p in VIEW_CATALOGUE]
    + [
        ("licensing", p)
        for p in ("add_product", "add_plan", "change_plan", "add_bundle", "add_invoice")
    ],
    Role.AUDITOR: [("licensing", p) for p in VIEW_CATALOGUE] + [("audit", "view_auditevent")],
    Role.CUSTOMER: [],
}
# Who reads contacts, notes and dispute texts in clear (audit.personal): the roles that work with
# customers, and customers themselves (their pages show only their own rows). Auditors do not.
for _role in (Role.ACCOUNT_MANAGER, *FINANCE_ROLES, Role.CUSTOMER):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], ("audit", "view_personal_data")]
# Retention policies: managers draft and publish them (as the other policies), auditors read them.
ROLE_PERMISSIONS[Role.ACCOUNT_MANAGER] += [
    ("audit", p)
    for p in (
        "view_retentionpolicyversion",
        "add_retentionpolicyversion",
        "change_retentionpolicyversion",
    )
]
ROLE_PERMISSIONS[Role.AUDITOR] += [("audit", "view_retentionpolicyversion")]
# The governance dashboard: for management and auditors.
for _role in (Role.FINANCIAL_CONTROLLER, Role.AUDITOR):
    ROLE_PERMISSIONS[_role] = [*ROLE_PERMISSIONS[_role], ("audit", "view_governance")]


def role_of(user) -> str | None:
    """The user's role: superusers act as administrators, others by their first role group."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return ADMIN
    cached = getattr(user, "_role_cache", None)
    if cached is None:
        names = set(user.groups.values_list("name", flat=True))
        cached = next((role.value for role in Role if role.value in names), "")
        user._role_cache = cached
    return cached or None


def is_staff_role(user) -> bool:
    role = role_of(user)
    return role == ADMIN or role in STAFF_ROLES


def is_customer_user(user) -> bool:
    """A customer's user, by role or by membership: either keeps them out of staff duties."""
    return role_of(user) == Role.CUSTOMER or hasattr(user, "customer_membership")
