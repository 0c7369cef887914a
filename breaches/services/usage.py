"""Usage reports: a whole file of daily figures checked, then stored in one transaction."""

import io
from datetime import date
from typing import BinaryIO

from django.db import transaction
from django.utils import timezone

from audit.services import audit_record
from licensing.access import entitlements_for_user
from licensing.errors import ActionForbidden, DomainError
from licensing.models import Entitlement

from ..errors import RowError, UsageRejected
from ..models import UsageReport
from ..usage_input import checked_rows, file_problems, read_csv, read_json
from ._usage_sql import Staging

PERM = "breaches.add_usagereport"


def usage_report_refusal(actor) -> str | None:
    """Why this user may not send usage reports, or None if they may."""
    if actor is None or not actor.is_authenticated or not actor.has_perm(PERM):
        return "Your role may not send usage reports."
    return None


@transaction.atomic
def usage_report_create(
    *,
    actor,
    on: date,
    rows: list | None = None,
    file: bytes | BinaryIO | None = None,
    filename: str = "",
    reason: str = "Usage reported",
) -> UsageReport:
    """Store a report's figures, replacing earlier figures for the same entitlement, metric and
    day. The input is checked whole first: any bad row refuses the report and stores nothing.

    `file` is a CSV file (an open binary file, such as an upload, or bytes). It is read as a
    stream, twice (bytes, then rows), and its good rows go to a staging table; the figures and
    their history are then written set-based, so memory stays flat however long the file.
    """
    refusal = usage_report_refusal(actor)
    if refusal:
        raise ActionForbidden(refusal)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason: every change records why it was made.")
    if (rows is None) == (file is None):
        raise UsageRejected(
            [RowError(None, "file", "Send either a CSV file or JSON rows, not both or neither.")]
        )
    errors: list[RowError] = []
    if file is not None:
        source = UsageReport.Source.CSV
        file = io.BytesIO(file) if isinstance(file, bytes | bytearray) else file
        errors = file_problems(file)
        items = iter(()) if errors else read_csv(file, errors)
    else:
        source = UsageReport.Source.JSON
        items, errors = read_json(rows)
    problems: list[RowError] = []
    with Staging() as stage:
        stage.load(checked_rows(items, problems, on=on))
        # Whether the sender may see each entitlement: one query for the whole file.
        visible = entitlements_for_user(actor).values("pk").query.sql_with_params()
        problems += [
            RowError(line, "entitlement", f"No entitlement with id {pk} that you can see.")
            for line, pk in stage.unknown_entitlements(*visible)
        ]
        if errors or problems:
            raise UsageRejected(errors + problems)

        ids = stage.entitlement_ids()
        # Entitlement rows are locked in primary-key order, so two reports touching the same
        # entitlements take turns rather than racing for the one current figure per key.
        list(
            Entitlement.objects.select_for_update(of=("self",))
            .filter(pk__in=ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        received = stage.count()
        figures, replaced = stage.settle()
        now = timezone.now()
        report = UsageReport(
            sent_by=actor, source=source, filename=filename[:255], rows=received,
            figures=figures, replaced=replaced, reason=reason,
        )  # fmt: skip
        report._history_user, report._change_reason = actor, reason
        report.save()
        stage.write(report, now=now, actor=actor, reason=reason)
    audit_record(
        actor=actor,
        action="usage_report.create",
        object_type="breaches.usagereport",
        object_id=report.pk,
        reason=reason,
        data={
            "source": source, "filename": report.filename, "rows": report.rows,
            "figures": report.figures, "replaced": report.replaced, "entitlements": ids,
        },
    )  # fmt: skip
    _warn_on_commit(ids, on)
    return report


def _warn_on_commit(entitlement_ids: list[int], on: date) -> None:
    from ..tasks import raise_usage_warnings

    # robust: a broker that is down must not turn a stored report into an error; the nightly
    # detection job raises any warning missed.
    transaction.on_commit(
        lambda: raise_usage_warnings.delay(entitlement_ids, on.isoformat()), robust=True
    )
