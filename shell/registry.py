"""Where apps plug into the shared furniture, each from its own `AppConfig.ready`.

A leaf module: it imports no app, so the core (licensing) registers here without knowing who
else does, and consumers (credits, breaches, licensing.deprovisioning) add their navigation
entries, role home pages, buttons on the core's pages and demo data the same way.

Roles are the role strings of `licensing.roles.Role` plus "admin" for superusers.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import reverse

ADMIN = "admin"
CUSTOMER = "customer"
STAFF = frozenset({"account_manager", "finance_analyst", "finance_approver",
                   "financial_controller", "auditor"})  # fmt: skip
STAFF_AND_ADMIN = STAFF | {ADMIN}


@dataclass(frozen=True)
class NavEntry:
    label: str
    url_name: str
    roles: frozenset[str]
    order: int
    name: str


@dataclass(frozen=True)
class Home:
    url_name: str
    priority: int


@dataclass(frozen=True)
class Action:
    """A button on another app's page: shown when `when(user, obj)` says so."""

    label: str
    url_name: str
    when: Callable[..., bool]
    query: Callable[..., dict] | None
    primary: bool
    order: int

    def url(self, obj) -> str:
        url = reverse(self.url_name)
        if self.query is not None:
            url += "?" + urlencode(self.query(obj))
        return url


@dataclass(frozen=True)
class Panel:
    """A section on another app's page: `context(request, obj)` gives its template's context,
    or ``None`` to leave it out for this person."""

    template: str
    context: Callable[..., dict | None]
    order: int


@dataclass
class _Registry:
    nav: list[NavEntry] = field(default_factory=list)
    homes: dict[str, Home] = field(default_factory=dict)
    actions: dict[str, list[Action]] = field(default_factory=dict)
    panels: dict[str, list[Panel]] = field(default_factory=dict)
    seeders: list[tuple[int, str, Callable]] = field(default_factory=list)


_registry = _Registry()


def register_nav(
    label: str, url_name: str, *, roles: Iterable[str], order: int, name: str | None = None
) -> None:
    """A navigation link for these roles; links sort by `order` (the core uses tens)."""
    _registry.nav.append(NavEntry(label, url_name, frozenset(roles), order, name or url_name))


def register_home(url_name: str, *, roles: Iterable[str], priority: int = 0) -> None:
    """Where these roles land after login; the highest priority wins for a role."""
    for role in roles:
        current = _registry.homes.get(role)
        if current is None or priority > current.priority:
            _registry.homes[role] = Home(url_name, priority)


def register_action(
    place: str,
    label: str,
    url_name: str,
    *,
    when: Callable[..., bool] = lambda user, obj: True,
    query: Callable[..., dict] | None = None,
    primary: bool = False,
    order: int = 50,
) -> None:
    """A button at a named place on a page ("licensing:contract", "portal:contract", ...);
    `when(user, obj)` asks the owning app's rule, `query(obj)` adds the URL's query string."""
    _registry.actions.setdefault(place, []).append(
        Action(label, url_name, when, query, primary, order)
    )


def register_panel(
    place: str, template: str, *, context: Callable[..., dict | None], order: int = 50
) -> None:
    """A section at a named place on a page, rendered from `template` with `context(request,
    obj)`; the owning app's template, so the page that shows it never names the app."""
    _registry.panels.setdefault(place, []).append(Panel(template, context, order))


def register_seeder(name: str, seed: Callable, *, order: int) -> None:
    """Demo data: `seed(stdout=..., password=...)`, run by `seed_demo` in `order`, safe twice."""
    _registry.seeders.append((order, name, seed))


def nav_for(role: str | None) -> list[NavEntry]:
    if role is None:
        return []
    entries = [entry for entry in _registry.nav if role in entry.roles]
    return sorted(entries, key=lambda entry: entry.order)


def home_for(role: str | None) -> str | None:
    home = _registry.homes.get(role) if role else None
    return home.url_name if home else None


def actions_for(place: str, user, obj) -> list[Action]:
    actions = sorted(_registry.actions.get(place, []), key=lambda action: action.order)
    return [action for action in actions if action.when(user, obj)]


def panels_for(place: str, request, obj) -> list[tuple[str, dict]]:
    panels = sorted(_registry.panels.get(place, []), key=lambda panel: panel.order)
    rendered = [(panel.template, panel.context(request, obj)) for panel in panels]
    return [(template, context) for template, context in rendered if context is not None]


def seeders() -> list[tuple[str, Callable]]:
    return [(name, seed) for _order, name, seed in sorted(_registry.seeders,
                                                          key=lambda s: s[0])]  # fmt: skip
