from celery import shared_task

from . import services


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def process_approval_deadlines() -> dict:
    return services.process_approval_deadlines()
