"""The account manager's pages: the case queue and the case page."""

from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from licensing.roles import is_staff_role

from . import page_selectors, usage_selectors
from .charts import usage_chart
from .models import BreachCase
from .page_filters import CaseQueueFilter

PAGE_SIZE = 25
CHART_MARGIN_DAYS = 14


def _staff_only(user) -> None:
    if not is_staff_role(user):
        raise PermissionDenied("This page is for LicenseDesk staff.")


@login_required
@require_safe
def case_queue(request):
    _staff_only(request.user)
    today = timezone.localdate()
    base = page_selectors.case_queue(base=page_selectors.cases_for_user(request.user))
    data = request.GET.copy()
    if "state" not in data:
        data["state"] = "open"  # the queue is the work still to do, unless asked otherwise
    filterset = CaseQueueFilter(data, queryset=base, request=request, on=today)
    queryset = filterset.qs if filterset.is_valid() else base.none()
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    for case in page:
        case.age_days = (today - case.detected_on).days
        case.over_percent = _over_percent(case)
    template = "breaches/case_queue.html"
    if request.htmx and not request.htmx.boosted:
        template = "breaches/partials/case_queue_table.html"
    return render(request, template, {"filter": filterset, "page": page, "today": today})


def _over_percent(case: BreachCase) -> int | None:
    quantity = case.evidence.get("quantity")
    peak = case.evidence.get("peak")
    if not quantity or peak is None:
        return None
    return (int(peak) - int(quantity)) * 100 // int(quantity)


def _case(request, pk) -> BreachCase:
    try:
        return page_selectors.case_detail(base=page_selectors.cases_for_user(request.user), pk=pk)
    except (BreachCase.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No breach case with id {pk}.") from None


def evidence_chart(case: BreachCase, *, on: date) -> dict:
    """Daily figures of the case's metric around its runs, against the entitled quantity and
    the level above which use counts as over."""
    entitlement = case.entitlement
    evidence = case.evidence
    first = case.first_day_over or case.detected_on
    last = max(
        [date.fromisoformat(d["day"]) for d in evidence.get("daily", [])] or [case.detected_on]
    )
    start = first - timedelta(days=CHART_MARGIN_DAYS)
    end = min(on, max(last + timedelta(days=CHART_MARGIN_DAYS), on if case.is_open else last))
    (series,) = usage_selectors.usage_series(entitlements=[entitlement], start=start, end=end)
    quantity = int(evidence.get("quantity", entitlement.quantity))
    tolerance = evidence.get("tolerance") or "1"
    from decimal import Decimal

    return usage_chart(
        days=series.days,
        by_metric={case.metric: series.by_metric.get(case.metric, {})},
        entitled=quantity,
        unit=entitlement.unit,
        allowed=quantity * Decimal(str(tolerance)),
        highlight=(first, last),
    )


@login_required
@require_safe
def case_detail(request, pk: int):
    _staff_only(request.user)
    case = _case(request, pk)
    today = timezone.localdate()
    context = {
        "case": case,
        "today": today,
        "evidence": case.evidence,
        "over_percent": _over_percent(case),
        "chart": evidence_chart(case, on=today),
        "chart_id": "evidence-chart",
        "context": page_selectors.customer_context(case=case, on=today),
        "options": list(case.options.all()),
        "milestones": list(case.milestones.all()),
        "communications": list(case.communications.all()),
        "notices": list(case.notices.all()),
        "events": list(case.events.all()),
        "earlier": list(case.earlier_overuse.all()),
    }
    return render(request, "breaches/case_detail.html", context)


@login_required
@require_safe
def notice_pdf(request, pk: int, notice_pk: int):
    _staff_only(request.user)
    case = _case(request, pk)
    try:
        notice = case.notices.model.objects.get(case=case, pk=notice_pk)
    except (case.notices.model.DoesNotExist, ValueError):
        raise Http404("No such notice on this case.") from None
    return notice_response(case, notice)


def notice_response(case: BreachCase, notice) -> HttpResponse:
    """The stored bytes, as issued: their hash is the one on the page."""
    response = HttpResponse(bytes(notice.pdf), content_type="application/pdf")
    filename = f"case-{case.pk}-{notice.kind.replace('_', '-')}-{notice.created_at:%Y-%m-%d}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-SHA256"] = notice.sha256
    return response
