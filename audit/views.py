from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from . import bundle
from .access import export_for_user, exports_for_user, require_audit_reader
from .changes import event_changes, event_data, history_entry, history_event, record_name
from .forms import ExportForm, TimelineFilterForm
from .governance import PERIODS, governance_csv, governance_report, period_days
from .models import AuditEvent, ExportJob
from .selectors import chain_status
from .services import chain_verification_request, export_request
from .timeline import (
    action_label,
    describe_filter,
    object_label,
    policy_label,
    timeline_count_at_most,
    timeline_page,
)


def _filter_query(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
@require_safe
def event_list(request):
    """The timeline: every event and history row, newest first, filtered."""
    require_audit_reader(request.user)
    form = TimelineFilterForm(request.GET or None)
    invalid = form.is_bound and not form.is_valid()
    try:
        number = int(request.GET.get("page", 1))
    except ValueError:
        number = 1
    page = None if invalid else timeline_page(form.timeline_filter(), number=number)
    context = {
        "form": form,
        "page": page,
        "query": _filter_query(request),
        "filtered": form.is_bound and any(v for k, v in request.GET.items() if k != "page"),
        "export_rows": settings.AUDIT_EXPORT_STREAM_MAX_ROWS,
        "export_formats": ExportJob.Format.choices,
    }
    return render(request, "audit/timeline.html", context)


def _actor(user) -> str:
    if user is None:
        return "the system"
    return user.get_full_name() or user.get_username()


@login_required
@require_safe
def event_entry(request, seq: int):
    require_audit_reader(request.user)
    event = AuditEvent.objects.select_related("actor").filter(seq=seq).first()
    if event is None:
        raise Http404("No such event.")
    context = {
        "event": event,
        "actor": _actor(event.actor) if event.actor_id else event.actor_username or "the system",
        "action": action_label(event.action),
        "policy": policy_label(event.policy_version),
        "object": object_label(event.object_type),
        "name": record_name(event.object_type, event.object_id),
        "data": event_data(event),
        "changes": event_changes(event, reader=request.user),
        "back": request.GET.get("back", ""),
    }
    return render(request, "audit/event_entry.html", context)


@login_required
@require_safe
def history_row(request, label: str, history_id: int):
    require_audit_reader(request.user)
    change = history_entry(label, history_id, reader=request.user)
    if change is None:
        raise Http404("No such history row.")
    row, event = change.row, history_event(change)
    context = {
        "change": change,
        "row": row,
        "actor": _actor(row.history_user),
        "object": object_label(label),
        "name": getattr(row, change.source.name_field) if change.source.name_field else "",
        "event": event,
        "event_action": action_label(event.action) if event else "",
        "back": request.GET.get("back", ""),
    }
    return render(request, "audit/history_entry.html", context)


@login_required
@require_safe
def chain(request):
    """The chain's state as the last verification stored it; no page request walks the chain."""
    require_audit_reader(request.user)
    return render(request, "audit/chain.html", chain_status())


@login_required
@require_POST
def verify(request):
    require_audit_reader(request.user)
    verification = chain_verification_request(actor=request.user)
    if verification.finished_at is None:
        messages.info(
            request,
            "Verification of the audit chain requested; the result shows here when it is done.",
        )
    else:
        messages.success(request, "The audit chain was verified; the result is below.")
    return redirect("audit:chain")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def exports(request):
    """GET: your exports. POST: export the filtered timeline (streamed now when it is small,
    else a task whose progress its page shows)."""
    require_audit_reader(request.user)
    if request.method != "POST":
        jobs = exports_for_user(user=request.user)[:50]
        return render(request, "audit/exports.html", {"jobs": jobs})
    filters, choice = TimelineFilterForm(request.POST), ExportForm(request.POST)
    if not (filters.is_valid() and choice.is_valid()):
        context = {"filters": filters, "choice": choice}
        return render(request, "audit/export_refused.html", context, status=400)
    flt, fmt = filters.timeline_filter(), choice.cleaned_data["format"]
    limit = settings.AUDIT_EXPORT_STREAM_MAX_ROWS
    stream = fmt != ExportJob.Format.BUNDLE and timeline_count_at_most(flt, limit + 1) <= limit
    job = export_request(actor=request.user, fmt=fmt, filter=flt.as_dict(), stream=stream)
    if not stream:
        return redirect("audit:export", pk=job.pk)
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    response = StreamingHttpResponse(bundle.timeline_lines(flt, fmt), content_type=content_type)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-timeline-{stamp}.{fmt}"'
    return response


def _file(job: ExportJob) -> Path:
    return Path(settings.MEDIA_ROOT) / job.file.name


def _is_bundle(job: ExportJob) -> bool:
    done = job.state == ExportJob.State.DONE and job.file
    return bool(done and job.format == ExportJob.Format.BUNDLE and _file(job).is_file())


@login_required
@require_safe
def export(request, pk: int):
    job = export_for_user(user=request.user, pk=pk)
    template = "audit/partials/export_status.html" if request.htmx else "audit/export.html"
    context = {
        "job": job,
        "counts": bundle.bundle_manifest(_file(job))["counts"] if _is_bundle(job) else None,
        "status_url": reverse("audit:export", args=[pk]),
        "filter": describe_filter(job.filter),
    }
    return render(request, template, context)


@login_required
@require_safe
def export_download(request, pk: int):
    job = export_for_user(user=request.user, pk=pk)
    if job.state != ExportJob.State.DONE or not job.file:
        raise Http404("This export has no file (yet).")
    path = _file(job)
    if not path.is_file():
        raise Http404("The export's file is gone.")
    return FileResponse(open(path, "rb"), as_attachment=True, filename=path.name)


def _require_governance(user) -> None:
    if not user.has_perm("audit.view_governance"):
        raise PermissionDenied("The governance dashboard is for management and auditors.")


@login_required
@require_safe
def governance(request):
    _require_governance(request.user)
    days = period_days(request.GET.get("days"))
    today = timezone.localdate()
    context = {
        "panels": governance_report(on=today, days=days),
        "days": days,
        "period_label": PERIODS[days],
        "periods": PERIODS,
        "today": today,
    }
    return render(request, "audit/governance.html", context)


@login_required
@require_safe
def governance_export(request):
    _require_governance(request.user)
    days = period_days(request.GET.get("days"))
    today = timezone.localdate()
    rows = governance_csv(governance_report(on=today, days=days))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    name = f"governance-{today.isoformat()}-{days}d.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
