from celery import shared_task

from . import services


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def expire_ended_entitlements() -> int:
    return services.expire_ended_entitlements()
