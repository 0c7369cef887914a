from celery import shared_task

from . import services


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def process_approval_deadlines() -> dict:
    return services.process_approval_deadlines()


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def process_dispute_deadlines() -> dict:
    """Beat job: remind finance of disputes coming due and escalate overdue ones."""
    return services.process_dispute_deadlines()
