from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from .governance import PERIODS, governance_csv, governance_report, period_days
from .selectors import audit_events, chain_verifications_latest
from .services import chain_verification_request


def _require_auditor(user) -> None:
    if not user.has_perm("audit.view_auditevent"):
        raise PermissionDenied("The audit log is for auditors and administrators.")


@login_required
@require_safe
def event_list(request):
    _require_auditor(request.user)
    events = audit_events(object_type=request.GET.get("object_type") or None).order_by("-seq")
    action = request.GET.get("action", "").strip()
    actor = request.GET.get("actor", "").strip()
    if action:
        events = events.filter(action__icontains=action)
    if actor:
        events = events.filter(actor_username__icontains=actor)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    # The chain is verified by a task, never here: the page shows what the last run stored.
    latest, finished = chain_verifications_latest()
    context = {
        "page": page,
        "verification": finished,
        "pending": latest if latest is not None and latest.finished_at is None else None,
        "filters": {"action": action, "actor": actor},
    }
    return render(request, "audit/event_list.html", context)


@login_required
@require_POST
def verify(request):
    _require_auditor(request.user)
    verification = chain_verification_request(actor=request.user)
    if verification.finished_at is None:
        messages.info(
            request,
            "Verification of the audit chain requested; the result shows here when it is done.",
        )
    else:
        messages.success(request, "The audit chain was verified; the result is below.")
    return redirect("audit:events")


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
