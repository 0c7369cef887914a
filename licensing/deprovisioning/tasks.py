"""Deprovisioning's Celery tasks: take ids, reload, re-check, call a service."""

import random

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from . import services
from .models import Delivery


def _backoff(attempt: int) -> int:
    # Exponential with full jitter: 30 s, 60 s, 120 s ... capped at an hour, spread so a system
    # coming back is not hit by every waiting delivery at the same second.
    # Whole seconds are fine-grained enough for a countdown.
    base = int(getattr(settings, "DEPROVISIONING_RETRY_BASE_SECONDS", 30))
    ceiling = max(min(base * 2 ** max(attempt - 1, 0), 3600), base // 2, 1)
    return random.randint(max(base // 2, 1), ceiling)


def _settle_in_process(delivery_id: int) -> str:
    """Without a broker: attempt until confirmed or escalated (the ceiling bounds the loop)."""
    state = services.delivery_attempt(delivery_id=delivery_id)
    while state == Delivery.State.FAILED:
        state = services.delivery_attempt(delivery_id=delivery_id)
    return state


@shared_task(acks_late=True)
def name_assignment(assignment_id: int) -> str:
    return services.assignment_name(assignment_id=assignment_id).holder_label


@shared_task(acks_late=True)
def advance_run(run_id: int) -> str:
    return services.run_advance(run_id=run_id, on=timezone.localdate()).state


@shared_task(bind=True, acks_late=True, max_retries=20)
def send_delivery(self, delivery_id: int) -> str:
    """Send one delivery; retried with backoff until confirmed or escalated at the ceiling.

    Without a broker (eager) Celery would not retry while exceptions propagate, so the attempts
    loop here, in-process, bounded by the same ceiling recorded on the row.
    """
    if self.request.is_eager:
        return _settle_in_process(delivery_id)
    state = services.delivery_attempt(delivery_id=delivery_id)
    if state == Delivery.State.FAILED:
        attempts = Delivery.objects.values_list("attempts", flat=True).get(pk=delivery_id)
        raise self.retry(countdown=_backoff(attempts))
    run_id = Delivery.objects.values_list("run_id", flat=True).get(pk=delivery_id)
    advance_run.delay(run_id)
    return state


# First attempts travel many to a message: enqueueing costs about as much as a small send, and
# a termination queues one delivery per holder (10,000 and more). Retries travel one by one.
BATCH = 100


def enqueue_deliveries(delivery_ids: list[int]) -> None:
    """Queue the first attempts of these deliveries, ``BATCH`` to a task."""
    for start in range(0, len(delivery_ids), BATCH):
        send_deliveries.delay(delivery_ids[start : start + BATCH])


@shared_task(bind=True, acks_late=True)
def send_deliveries(self, delivery_ids: list[int]) -> dict:
    """One attempt at each delivery; a retryable failure goes on as its own ``send_delivery``
    with backoff. Without a broker each is sent by ``send_delivery`` in-process, retries and all.
    """
    states: dict[str, int] = {}
    runs = set()
    for delivery_id in delivery_ids:
        if self.request.is_eager:
            state = _settle_in_process(delivery_id)
        else:
            state = services.delivery_attempt(delivery_id=delivery_id)
            if state == Delivery.State.FAILED:
                attempts = Delivery.objects.values_list("attempts", flat=True).get(pk=delivery_id)
                send_delivery.apply_async((delivery_id,), countdown=_backoff(attempts))
        states[state] = states.get(state, 0) + 1
        runs.add(Delivery.objects.values_list("run_id", flat=True).get(pk=delivery_id))
    if not self.request.is_eager:
        for run_id in sorted(runs):
            advance_run.delay(run_id)
    return states


@shared_task(acks_late=True)
def deprovisioning_nightly() -> dict:
    return services.nightly(on=timezone.localdate())


@shared_task(acks_late=True)
def reconcile_systems() -> dict:
    from .reconciliation import reconcile_all

    return reconcile_all(on=timezone.localdate())
