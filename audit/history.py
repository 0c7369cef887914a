"""The history tables of every app, found through Django's app registry.

audit/ is the ground floor and imports no other app: it learns which models keep a
django-simple-history table by asking the registry, and how each one leads to a customer and a
contract by walking its foreign keys to the models named in `settings.AUDIT_SCOPE_MODELS`.
"""

import functools
from collections import deque
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.db import models
from simple_history.models import HistoricalChanges

# Fields that name a row to a person, in the order they are tried.
NAME_FIELDS = ("number", "name", "label", "title", "username", "code", "external_id")
# A path may cross this many foreign keys (ApprovalStep -> Credit -> Contract is two).
MAX_HOPS = 3


@dataclass(frozen=True)
class Source:
    """One history table: the model it records and how its rows reach the scope models."""

    label: str  # the recorded model's label, as events name their object_type
    model: type[models.Model]  # the historical model
    live: type[models.Model]  # the model it records
    verbose_name: str
    name_field: str | None
    paths: dict[str, str]  # scope ("customer", "contract") -> lookup from the live model to its id

    def lookup(self, scope: str) -> str | None:
        """The scope's lookup on the history table (its own primary key keeps the live name)."""
        path = self.paths.get(scope)
        return self.live._meta.pk.attname if path == "pk" else path

    def tracked_fields(self) -> list[models.Field]:
        """The recorded model's fields as the history table keeps them, in model order."""
        names = {f.name for f in self.model._meta.fields}
        return [f for f in self.live._meta.concrete_fields if f.name in names]


def scope_model(scope: str) -> type[models.Model] | None:
    label = settings.AUDIT_SCOPE_MODELS.get(scope)
    if not label:
        return None
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def name_field(model: type[models.Model]) -> str | None:
    fields = {f.name for f in model._meta.concrete_fields}
    return next((name for name in NAME_FIELDS if name in fields), None)


def path_to(model: type[models.Model], target: type[models.Model]) -> str | None:
    """The shortest chain of forward foreign keys from `model` to `target`'s primary key."""
    if model is target:
        return "pk"
    queue = deque([(model, "", 0)])
    seen = {model}
    while queue:
        current, prefix, hops = queue.popleft()
        if hops == MAX_HOPS:
            continue
        for field in current._meta.concrete_fields:
            if not (field.is_relation and (field.many_to_one or field.one_to_one)):
                continue
            related = field.related_model
            lookup = f"{prefix}{field.name}"
            if related is target:
                return lookup
            if related not in seen and related._meta.app_label != "auth":
                seen.add(related)
                queue.append((related, lookup + "__", hops + 1))
    return None


@functools.cache
def history_sources() -> tuple[Source, ...]:
    """Every history table in the project, ordered by label; read once per process."""
    scopes = {scope: scope_model(scope) for scope in settings.AUDIT_SCOPE_MODELS}
    found = []
    for model in apps.get_models():
        if not issubclass(model, HistoricalChanges):
            continue
        live = model.instance_type
        paths = {}
        for scope, target in scopes.items():
            path = path_to(live, target) if target is not None else None
            if path is not None:
                paths[scope] = path
        found.append(
            Source(
                label=live._meta.label_lower,
                model=model,
                live=live,
                verbose_name=str(live._meta.verbose_name),
                name_field=name_field(live),
                paths=paths,
            )
        )
    return tuple(sorted(found, key=lambda s: s.label))


def _aliases() -> dict[str, str]:
    return getattr(settings, "AUDIT_OBJECT_TYPE_ALIASES", {})


def model_label(object_type: str) -> str:
    """The model label an event's object_type stands for (most are the label itself)."""
    return _aliases().get(object_type, object_type)


def object_types(label: str) -> list[str]:
    """Every object_type events use for this model: its label and its aliases."""
    return [label, *(alias for alias, target in _aliases().items() if target == label)]


def is_alias(object_type: str) -> bool:
    return object_type in _aliases()


@functools.cache
def _by_label() -> dict[str, Source]:
    return {source.label: source for source in history_sources()}


def source_for(label: str) -> Source | None:
    return _by_label().get(model_label(label))


def live_model(label: str) -> type[models.Model] | None:
    """The model an event's object_type names, when it names one."""
    try:
        return apps.get_model(model_label(label))
    except (LookupError, ValueError):
        return None
