"""Where apps standing on audit plug into it, each from its own `AppConfig.ready`.

A leaf module: audit names no consumer. Apps register
- what their holds cover (`register_hold_source`): the purge leaves those records alone;
- panels of the governance dashboard (`register_governance_panel`), drawn from their own data;
- names of their event actions where the generic wording reads wrong (`register_event_names`).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class HeldRecords:
    """Audit events a hold covers: those about `object_type` with one of `object_ids`, or, with
    `data_key`, those of any type whose `data[data_key]` is one of `object_ids` (events about an
    entitlement name its contract so)."""

    object_type: str
    object_ids: frozenset[str]
    data_key: str = ""
    why: str = ""


@dataclass(frozen=True)
class Panel:
    """One block of the governance dashboard.

    `build(on=, period_start=)` returns a dict: `title`, `rows` (list of dicts with plain-language
    keys: the table and the CSV), optionally `chart` (a Chart.js config) and `note`. Rows must
    carry no customer or user names: the CSV is anonymised by construction.
    """

    key: str
    title: str
    order: int
    build: Callable[..., dict]


@dataclass
class _Registry:
    hold_sources: dict[str, Callable[[date], Iterable[HeldRecords]]] = field(default_factory=dict)
    panels: dict[str, Panel] = field(default_factory=dict)
    event_names: dict[str, str] = field(default_factory=dict)


_registry = _Registry()


def register_hold_source(name: str, source: Callable[[date], Iterable[HeldRecords]]) -> None:
    """`source(on)` names the records under hold on date `on`; registering twice replaces."""
    _registry.hold_sources[name] = source


def held_records(on: date) -> list[HeldRecords]:
    return [held for source in _registry.hold_sources.values() for held in source(on)]


def register_governance_panel(key: str, title: str, build: Callable[..., dict], *, order: int):
    _registry.panels[key] = Panel(key, title, order, build)


def governance_panels() -> list[Panel]:
    return sorted(_registry.panels.values(), key=lambda panel: panel.order)


def register_event_names(names: dict[str, str]) -> None:
    """Names of event actions as pages show them ({"credit.approve_step": "Step approved"})."""
    _registry.event_names.update(names)


def event_name(code: str) -> str | None:
    return _registry.event_names.get(code)
