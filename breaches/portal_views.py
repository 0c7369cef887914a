"""The customer's pages: usage against entitlements, their cases, notices and choosing an option.

Every read goes through licensing.access, so a customer only ever meets their own rows; another
customer's ids answer 404.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from licensing import access

from . import usage_selectors
from .charts import usage_chart

WINDOWS = {30: "Last 30 days", 90: "Last 90 days", 365: "Last 12 months"}
DEFAULT_WINDOW = 90
CHARTS_PER_PAGE = 10


def _customer_only(user):
    customer = access.customer_of(user)
    if customer is None:
        raise PermissionDenied("The portal is for customer users.")
    return customer


def _window(request) -> int:
    try:
        days = int(request.GET.get("days", DEFAULT_WINDOW))
    except (TypeError, ValueError):
        return DEFAULT_WINDOW
    return days if days in WINDOWS else DEFAULT_WINDOW


@login_required
@require_safe
def usage(request):
    customer = _customer_only(request.user)
    today = timezone.localdate()
    days = _window(request)
    start, end = usage_selectors.usage_window(on=today, days=days)
    entitlements = usage_selectors.entitlements_with_usage(
        base=access.entitlements_for_user(request.user), start=start, end=end
    )
    page = Paginator(entitlements, CHARTS_PER_PAGE).get_page(request.GET.get("page"))
    cards = []
    for series in usage_selectors.usage_series(
        entitlements=list(page), start=start, end=end
    ):  # fmt: skip
        entitlement = series.entitlement
        metrics = [
            {
                "label": label,
                "latest": series.latest(metric),
                "peak": series.peak(metric),
                "days_over": series.days_above(metric, entitlement.quantity),
            }
            for metric, label in series.metrics()
        ]
        cards.append({
            "entitlement": entitlement,
            "metrics": metrics,
            "chart_id": f"usage-chart-{entitlement.pk}",
            "chart": usage_chart(days=series.days, by_metric=series.by_metric,
                                 entitled=entitlement.quantity, unit=entitlement.unit),
        })  # fmt: skip
    context = {
        "customer": customer,
        "page": page,
        "cards": cards,
        "days": days,
        "windows": WINDOWS.items(),
        "start": start,
        "end": end,
    }
    return render(request, "breaches_portal/usage.html", context)
