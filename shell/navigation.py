"""The role-aware navigation and each role's home page, from what the apps registered."""

from django.urls import reverse

from licensing.roles import Role, role_of

from . import registry

ROLE_LABELS = {**dict(Role.choices), registry.ADMIN: "Administrator"}


def home_url_for(user) -> str:
    return reverse(registry.home_for(role_of(user)) or "no-role")


def navigation_for(user) -> tuple[str, list[dict]]:
    role = role_of(user)
    nav = [
        {"label": entry.label, "url": reverse(entry.url_name), "name": entry.name}
        for entry in registry.nav_for(role)
    ]
    return ROLE_LABELS.get(role, ""), nav
