"""The role-aware navigation and each role's home page."""

from django.urls import reverse

from .roles import Role, role_of

ROLE_LABELS = {**dict(Role.choices), "admin": "Administrator"}
FINANCE = {Role.FINANCE_ANALYST, Role.FINANCE_APPROVER, Role.FINANCIAL_CONTROLLER, "admin"}


def home_url_for(user) -> str:
    role = role_of(user)
    if role == Role.CUSTOMER:
        return reverse("portal:home")
    if role == Role.AUDITOR:
        return reverse("audit:events")
    if role in FINANCE - {"admin"}:
        # Finance's daily work is the approval queue; the dashboard stays one click away.
        return reverse("credits:queue")
    if role is None:
        return reverse("no-role")
    return reverse("licensing:dashboard")


def navigation_for(user) -> tuple[str, list[dict]]:
    role = role_of(user)
    items: list[tuple[str, str]] = []
    if role == Role.CUSTOMER:
        items = [
            ("Overview", "portal:home"),
            ("Entitlements", "portal:entitlements"),
            ("Credits", "credits_portal:list"),
            ("Request a change", "credits_portal:request"),
            ("Calculator", "credits_portal:calculator"),
            ("Credit policy", "credits_portal:policy"),
        ]
    elif role == Role.AUDITOR:
        # The audit log is the auditor's home, so it comes first.
        items = [
            ("Audit log", "audit:events"),
            ("Dashboard", "licensing:dashboard"),
            ("Contracts", "licensing:contracts"),
            ("Credits", "credits:queue"),
            ("API", "api-docs"),
        ]
    elif role is not None:
        items = [("Dashboard", "licensing:dashboard"), ("Contracts", "licensing:contracts")]
        if role in FINANCE:
            items += [
                ("Approvals", "credits:queue"),
                ("Disputes", "credits:disputes"),
                ("Credit policies", "credits:policies"),
            ]
        else:
            items.append(("Credits", "credits:queue"))
        if role == "admin":
            items.append(("Audit log", "audit:events"))
        items.append(("API", "api-docs"))
    nav = [{"label": label, "url": reverse(name), "name": name} for label, name in items]
    if role == "admin":
        nav.append({"label": "Admin", "url": reverse("admin:index"), "name": "admin"})
    return ROLE_LABELS.get(role, ""), nav
