from datetime import date

from celery import shared_task
from django.utils import timezone

from . import services
from .deprovisioning import tasks as deprovisioning_tasks  # noqa: F401 (registers its tasks)


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def expire_ended_entitlements(on: str | None = None) -> int:
    """Nightly expiry. `on` (an ISO date) pins the business date to judge by; the beat sends
    none, so the task, the edge, reads today once and passes it down."""
    day = date.fromisoformat(on) if on else timezone.localdate()
    return services.expire_ended_entitlements(on=day)


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def apply_scheduled_changes(on: str | None = None) -> int:
    """At the start of each day: apply the changes scheduled for it (or missed before it).
    Each change is claimed under a lock, so a duplicate run applies nothing twice."""
    day = date.fromisoformat(on) if on else timezone.localdate()
    return services.apply_due_changes(on=day)


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def renew_api_tokens() -> dict:
    """Nightly: renew API tokens in their last days while their entitlement still renews."""
    return services.api_tokens_renew_due(now=timezone.now())
