import hashlib
import json
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .chain import GENESIS_HASH, canonical, event_content, link_hash
from .models import AuditEvent, ChainHead, ChainVerification, ExportJob
from .selectors import ChainReport, audit_verify_chain
from .timeline import TimelineFilter, timeline_rows
from .tree import tree_append, tree_size

logger = logging.getLogger(__name__)

# Longer than a verification of the largest chain takes (1,000,000 events: under a minute).
VERIFICATION_STALE = timedelta(hours=1)


@dataclass(frozen=True)
class EventSpec:
    action: str
    object_type: str
    object_id: str
    reason: str = ""
    policy_version: str = ""
    data: dict = field(default_factory=dict)


def _key() -> bytes:
    return settings.AUDIT_HMAC_KEY.encode()


def _json_safe(data: dict) -> dict:
    # Decimals, dates and UUIDs become strings before hashing, so what is stored hashes the same.
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def _locked_head() -> tuple[ChainHead, bool]:
    """The head row, locked; and whether it had to be recreated (from the last event)."""
    head = ChainHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head, False
    # A deleted head once restarted the chain at #1 and every later write failed. It is rebuilt
    # from the last event, loudly: verification and the checkpoints still judge that event.
    last = AuditEvent.objects.order_by("-seq").values_list("seq", "hash").first()
    seq, digest = last or (0, GENESIS_HASH)
    _, created = ChainHead.objects.get_or_create(pk=1, defaults={"seq": seq, "hash": digest})
    head = ChainHead.objects.select_for_update().get(pk=1)
    if created and last is not None:
        logger.error("The audit chain's head row was missing; recreated at #%s from the last "
                     "event.", seq)  # fmt: skip
    return head, created and last is not None


def audit_record_many(*, actor, specs: Iterable[EventSpec]) -> list[AuditEvent]:
    """Append events to the chain inside the caller's transaction, holding the head's row lock."""
    specs = list(specs)
    if not specs:
        return []
    actor_id = actor.pk if actor is not None else None
    username = actor.get_username() if actor is not None else "system"
    key = _key()
    with transaction.atomic():
        head, recreated = _locked_head()
        if recreated:
            note = "The chain's head row was missing and was recreated from the last event."
            specs.insert(0, EventSpec("audit.head_recreated", "audit.chain", "1", note))
        occurred_at = timezone.now().astimezone(UTC)
        seq, prev = head.seq, head.hash
        events = []
        for spec in specs:
            seq += 1
            data = _json_safe(spec.data)
            fields = {
                "seq": seq, "occurred_at": occurred_at, "actor_id": actor_id,
                "actor_username": username, "action": spec.action,
                "object_type": spec.object_type, "object_id": str(spec.object_id),
                "reason": spec.reason, "policy_version": spec.policy_version, "data": data,
            }  # fmt: skip
            digest = link_hash(key, prev, event_content(**fields))
            text = canonical(data).decode()
            events.append(AuditEvent(**fields, canonical_data=text, prev_hash=prev, hash=digest))
            prev = digest
        AuditEvent.objects.bulk_create(events, batch_size=2000)
        tree_append(size=head.seq, events=events)
        head.seq, head.hash = seq, prev
        head.save(update_fields=["seq", "hash"])
    return events[1:] if recreated else events


def audit_record(
    *,
    actor,
    action: str,
    object_type: str,
    object_id,
    reason: str = "",
    policy_version: str = "",
    data: dict | None = None,
) -> AuditEvent:
    spec = EventSpec(action, object_type, str(object_id), reason, policy_version, data or {})
    return audit_record_many(actor=actor, specs=[spec])[0]


# Verification runs as a task; pages only read what it stored.


@transaction.atomic
def chain_verification_request(*, actor=None) -> ChainVerification:
    """Queue a check of the chain after commit; while one waits or runs, that one is returned."""
    if actor is not None and not actor.has_perm("audit.view_auditevent"):
        raise PermissionDenied("Only auditors and administrators verify the audit chain.")
    waiting = ChainVerification.objects.select_for_update().filter(finished_at__isnull=True)
    # A run that never finished (its worker died) does not hold back a new one for ever.
    recent = waiting.filter(requested_at__gte=timezone.now() - VERIFICATION_STALE).first()
    if recent is not None:
        return recent
    verification = ChainVerification.objects.create(requested_at=timezone.now(), requested_by=actor)
    from .tasks import verify_chain

    transaction.on_commit(lambda: verify_chain.delay(verification.pk), robust=True)
    return verification


def chain_verification_run(*, verification_id: int) -> ChainVerification | None:
    """Walk the chain and store the result; None when another run already took this request."""
    claimed = ChainVerification.objects.filter(pk=verification_id, started_at__isnull=True).update(
        started_at=timezone.now()
    )
    if not claimed:
        return None
    report = audit_verify_chain()
    if report.ok:
        from .checkpoints import checkpoints_problem

        problem = checkpoints_problem()
        if problem:
            report = ChainReport(False, report.checked, None, problem[:500])
    ChainVerification.objects.filter(pk=verification_id).update(
        finished_at=timezone.now(), ok=report.ok, verified_up_to=report.checked,
        first_bad_id=report.first_bad_id, problem=report.problem,
    )  # fmt: skip
    return ChainVerification.objects.get(pk=verification_id)


# Exports: each one, of any kind, is an event saying who exported what with which filter.


def export_refusal(actor) -> str | None:
    if actor is None or not actor.has_perm("audit.view_auditevent"):
        return "Only auditors and administrators export the audit trail."
    return None


@transaction.atomic
def export_request(*, actor, fmt: str, filter: dict, stream: bool, via: str = "page"):
    """Record an export: streamed now by the caller, or queued for a task after commit."""
    refusal = export_refusal(actor)
    if refusal:
        raise PermissionDenied(refusal)
    if fmt not in ExportJob.Format.values:
        raise ValueError(f"unknown export format {fmt!r}")
    state = ExportJob.State.STREAMED if stream else ExportJob.State.QUEUED
    job = ExportJob.objects.create(
        requested_by=actor, requested_at=timezone.now(), format=fmt, via=via,
        filter=_json_safe(filter), state=state,
    )  # fmt: skip
    label = ExportJob.Format(fmt).label
    audit_record(
        actor=actor, action="audit.export", object_type="audit.exportjob", object_id=job.pk,
        reason=f"{label} export of the audit trail ({'streamed' if stream else 'as a task'})",
        data={"format": fmt, "via": via, "delivery": "stream" if stream else "task",
              "filter": job.filter},
    )  # fmt: skip
    if not stream:
        from .tasks import run_export

        transaction.on_commit(lambda: run_export.delay(job.pk), robust=True)
    return job


def export_run(*, job_id: int):
    """Build the export's file; a duplicate run finds the job taken and does nothing."""
    from . import bundle  # writes files with the tree's key: only tasks need it

    claimed = ExportJob.objects.filter(pk=job_id, state=ExportJob.State.QUEUED).update(
        state=ExportJob.State.RUNNING, started_at=timezone.now()
    )
    if not claimed:
        return None
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    flt = TimelineFilter.from_dict(job.filter)
    folder = Path(settings.MEDIA_ROOT) / "audit-exports"
    folder.mkdir(parents=True, exist_ok=True)
    extension = "zip" if job.format == ExportJob.Format.BUNDLE else job.format
    stamp = timezone.localtime(job.requested_at).strftime("%Y%m%d-%H%M%S")
    name = f"audit-{job.format}-{stamp}-{job.pk}-{secrets.token_hex(8)}.{extension}"
    path = folder / name
    done = [0]

    def progress(count: int) -> None:
        done[0] += count
        ExportJob.objects.filter(pk=job_id).update(done=done[0])

    try:
        if job.format == ExportJob.Format.BUNDLE:
            events, history = bundle.bundle_counts(flt, tree_size())
            ExportJob.objects.filter(pk=job_id).update(total=2 * events + history)
            bundle.write_bundle(
                path, flt=flt, job_id=job.pk, requested_by=job.requested_by.get_username(),
                progress=progress,
            )  # fmt: skip
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            rows = timeline_rows(flt)
            total = 0 if rows is None else rows.order_by().count()
            ExportJob.objects.filter(pk=job_id).update(total=total)
            digest, _ = bundle.write_lines(path, bundle.timeline_lines(flt, job.format), progress)
    except Exception as error:
        logger.exception("Audit export %s failed", job_id)
        path.unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job_id).update(
            state=ExportJob.State.FAILED, finished_at=timezone.now(), problem=str(error)[:500]
        )
        return ExportJob.objects.get(pk=job_id)
    ExportJob.objects.filter(pk=job_id).update(
        state=ExportJob.State.DONE, finished_at=timezone.now(), sha256=digest,
        size=path.stat().st_size, file=f"audit-exports/{name}", done=F("total"),
    )  # fmt: skip
    return ExportJob.objects.get(pk=job_id)
