from celery import shared_task

from . import services
from .tree import tree_head_sign


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def verify_chain(verification_id: int | None = None) -> bool | None:
    """Verify the whole chain and store the result. Beat calls it without an id (nightly); the
    audit log page queues it with the id of the request it stored. A duplicate does nothing."""
    if verification_id is None:
        # Stores a request and queues its run, as the page's button does (or finds one waiting).
        return services.chain_verification_request().ok
    verification = services.chain_verification_run(verification_id=verification_id)
    return None if verification is None else verification.ok


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=5)
def sign_tree_head() -> int:
    """Sign and store the head for the current size (daily, by beat); a repeat changes nothing."""
    return tree_head_sign().tree_size


@shared_task(acks_late=True)
def write_checkpoint() -> int | None:
    """Beat runs it hourly: the head goes to the append-only file outside the database."""
    from .checkpoints import checkpoint_write

    checkpoint = checkpoint_write()
    return None if checkpoint is None else checkpoint.seq


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), retry_backoff=True, max_retries=3)
def run_export(job_id: int) -> str | None:
    """Build an export's file; the page polls its progress. A duplicate finds it taken."""
    job = services.export_run(job_id=job_id)
    return None if job is None else job.state
