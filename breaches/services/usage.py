"""Usage reports: a whole file of daily figures checked, then stored in one transaction."""

from datetime import date

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from audit.services import audit_record
from licensing.errors import ActionForbidden, DomainError
from licensing.models import Entitlement

from ..errors import RowError, UsageRejected
from ..models import UsageFigure, UsageReport
from ..usage_input import check_rows, read_csv, read_json

PERM = "breaches.add_usagereport"
BATCH = 5000


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
    file: bytes | None = None,
    filename: str = "",
    reason: str = "Usage reported",
) -> UsageReport:
    """Store a report's figures, replacing earlier figures for the same entitlement, metric and
    day. The input is checked whole first: any bad row refuses the report and stores nothing."""
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
    if file is not None:
        source, (items, errors) = UsageReport.Source.CSV, read_csv(file)
    else:
        source, (items, errors) = UsageReport.Source.JSON, read_json(rows)
    figures, problems = check_rows(items, actor=actor, on=on)
    if errors or problems:
        raise UsageRejected(errors + problems)

    ids = sorted({key[0] for key in figures})
    # Entitlement rows are locked in primary-key order, so two reports touching the same
    # entitlements take turns rather than racing for the one current figure per key.
    list(Entitlement.objects.select_for_update(of=("self",)).filter(pk__in=ids).order_by("pk"))
    earlier = _current_figures(figures)
    now = timezone.now()
    report = UsageReport(
        sent_by=actor, source=source, filename=filename[:255], rows=len(items),
        figures=len(figures), replaced=len(earlier), reason=reason,
    )  # fmt: skip
    report._history_user, report._change_reason = actor, reason
    report.save()
    for figure in earlier.values():
        figure.replaced_at = now
    bulk_update_with_history(
        list(earlier.values()), UsageFigure, ["replaced_at"], batch_size=BATCH,
        default_user=actor, default_change_reason=reason, default_date=now,
    )  # fmt: skip
    bulk_create_with_history(
        [
            UsageFigure(
                entitlement_id=key[0], metric=key[1], day=key[2], quantity=quantity,
                report=report, replaces=earlier.get(key),
            )  # fmt: skip
            for key, quantity in figures.items()
        ],
        UsageFigure, batch_size=BATCH, default_user=actor, default_change_reason=reason,
        default_date=now,
    )  # fmt: skip
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


def _current_figures(figures: dict) -> dict:
    """The current figures these keys will replace, by key, fetched in one query."""
    if not figures:
        return {}
    days = [key[2] for key in figures]
    candidates = UsageFigure.objects.filter(
        entitlement_id__in={key[0] for key in figures},
        metric__in={key[1] for key in figures},
        day__range=(min(days), max(days)),
        replaced_at__isnull=True,
    ).select_for_update(of=("self",))
    found = {}
    for figure in candidates.order_by("pk"):
        key = (figure.entitlement_id, figure.metric, figure.day)
        if key in figures:
            found[key] = figure
    return found
