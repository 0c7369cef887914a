"""Helpers every breaches service shares: who acts, reasons, history stamps, locks, timeline."""

from __future__ import annotations

from django.db.models import Model

from audit.services import audit_record
from licensing.errors import ActionForbidden, DomainError
from licensing.services import system_actor
from licensing.services._common import SYSTEM_USERNAME, _require_reason

from ..models import BreachCase, CaseEvent

MANAGE_PERM = "breaches.transition_breachcase"


def is_system(actor) -> bool:
    return actor is not None and getattr(actor, "username", None) == SYSTEM_USERNAME


def system() -> object:
    """The account scheduled jobs act as (see licensing.services.system_actor)."""
    return system_actor()


def may_manage(actor) -> bool:
    return is_system(actor) or (
        actor is not None and actor.is_authenticated and actor.has_perm(MANAGE_PERM)
    )


def require_manager(actor, what: str) -> None:
    if not may_manage(actor):
        raise ActionForbidden(f"Your role may not {what}.")


def require_reason(reason: str | None, *, field: str | None = None) -> str:
    # The licensing rule, one limit for every reason (audit.limits).
    return _require_reason(reason, field=field)


def stamp(instance: Model, *, actor, reason: str) -> None:
    # django-simple-history reads these when the row is saved.
    instance._history_user = actor
    instance._change_reason = reason


def locked_case(case_id) -> BreachCase:
    try:
        return (
            BreachCase.objects.select_for_update(of=("self",))
            .select_related("entitlement__contract__customer", "policy")
            .get(pk=case_id)
        )
    except (BreachCase.DoesNotExist, ValueError, TypeError):
        raise DomainError(f"No breach case with id {case_id}.") from None


def event(case: BreachCase, *, kind: str, action: str, actor, reason: str = "", summary: str,
          from_state: str = "", to_state: str = "", data: dict | None = None,
          communication=None, customer_visible: bool = True) -> CaseEvent:  # fmt: skip
    """One timeline entry, written with the change it tells of."""
    return CaseEvent.objects.create(
        case=case, kind=kind, action=action, actor=actor, reason=reason, summary=summary[:300],
        from_state=from_state, to_state=to_state, data=data or {},
        communication=communication, customer_visible=customer_visible,
    )  # fmt: skip


def audit(actor, action: str, obj: Model, *, reason: str = "", policy=None, data=None) -> None:
    audit_record(
        actor=actor,
        action=action,
        object_type=f"breaches.{obj._meta.model_name}",
        object_id=obj.pk,
        reason=reason,
        policy_version=policy.label if policy is not None else "",
        data=data or {},
    )
