"""Breach jobs: take ids and dates, reload, and call a service that is safe to run twice."""

from datetime import date

from celery import shared_task
from django.utils import timezone

RETRY = {"acks_late": True, "autoretry_for": (ConnectionError,), "retry_backoff": True,
         "max_retries": 5}  # fmt: skip


@shared_task(**RETRY)
def raise_usage_warnings(entitlement_ids: list[int], on: str) -> int:
    """After a usage report commits: warn of thresholds its figures reached."""
    from .services.warnings import usage_warnings_raise

    return len(usage_warnings_raise(on=date.fromisoformat(on), entitlement_ids=entitlement_ids))


@shared_task(**RETRY)
def detect_breaches() -> dict:
    """Beat job, nightly: warnings any report missed, then detection over every entitlement."""
    from .services.detection import breach_detect
    from .services.warnings import usage_warnings_raise

    on = timezone.localdate()
    usage_warnings_raise(on=on)
    found = breach_detect(on=on)
    return {"opened": found.opened, "updated": found.updated}


@shared_task(**RETRY)
def process_milestones() -> dict:
    """Beat job, daily: remind before deadlines, escalate cases whose deadline passed."""
    from .services.milestones import milestones_process

    return milestones_process(on=timezone.localdate())
