"""The customer's pages: usage against entitlements, their cases, notices and choosing an option.

Every read goes through licensing.access, so a customer only ever meets their own rows; another
customer's ids answer 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from licensing import access
from licensing.errors import DomainError

from . import page_selectors, usage_selectors
from .case_views import evidence_chart, notice_response
from .charts import usage_chart
from .models import BreachCase, BreachNotice
from .portal_wording import customer_sentence
from .selectors import usage_warning_banners
from .services import allowed_transitions, breach_case_transition, usage_warning_dismiss

WINDOWS = {30: "Last 30 days", 90: "Last 90 days", 365: "Last 12 months"}
DEFAULT_WINDOW = 90
CHARTS_PER_PAGE = 10
BANNERS = 5


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
        "banners": usage_warning_banners(customer=customer, on=today)[:BANNERS],
        "page": page,
        "cards": cards,
        "days": days,
        "windows": WINDOWS.items(),
        "start": start,
        "end": end,
    }
    return render(request, "breaches_portal/usage.html", context)


# Cases, as the customer sees them: all of their own, in every state (as the API answers),
# each state said in the customer's words; never staff notes or names of who did what on our
# side, and only timeline entries marked for the customer, as plain sentences.
def portal_cases(user):
    return page_selectors.cases_for_user(user)


@login_required
@require_safe
def cases(request):
    customer = _customer_only(request.user)
    rows = list(
        page_selectors.case_queue(base=portal_cases(request.user)).order_by("-detected_on", "-pk")
    )
    context = {
        "customer": customer,
        "banners": usage_warning_banners(customer=customer, on=timezone.localdate())[:BANNERS],
        "open_cases": [c for c in rows if c.is_open],
        "closed_cases": [c for c in rows if not c.is_open],
    }
    return render(request, "breaches_portal/cases.html", context)


def _portal_case(request, pk) -> BreachCase:
    _customer_only(request.user)
    try:
        return page_selectors.case_detail(base=portal_cases(request.user), pk=pk)
    except (BreachCase.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No case with id {pk}.") from None


@login_required
@require_safe
def case(request, pk: int):
    case = _portal_case(request, pk)
    today = timezone.localdate()
    offered = [o for o in case.options.all() if o.dropped_at is None]
    milestones = {m.pk: m for m in case.milestones.all()}
    may_agree = case.state == BreachCase.State.REMEDIATION_OFFERED and "agree" in (
        allowed_transitions(request.user, case)
    )
    context = {
        "case": case,
        "evidence": case.evidence,
        "today": today,
        "chart": evidence_chart(case, on=today),
        "chart_id": "evidence-chart",
        "options": offered
        if case.state == BreachCase.State.REMEDIATION_OFFERED
        else [o for o in offered if o.pk == case.agreed_option_id],
        "may_agree": may_agree,
        "milestones": list(milestones.values()),
        "notices": list(case.notices.all()),
        "events": [
            {"at": e.at, "text": customer_sentence(e, case, milestones)}
            for e in case.events.all()
            if e.customer_visible
        ],  # fmt: skip
        "contact": case.owner or case.entitlement.contract.account_manager,
    }
    return render(request, "breaches_portal/case.html", context)


@login_required
@require_POST
def agree(request, pk: int):
    case = _portal_case(request, pk)
    kind = request.POST.get("option", "")
    comment = (request.POST.get("comment") or "").strip()
    try:
        moved = breach_case_transition(
            actor=request.user, case_id=case.pk, transition="agree", option=kind,
            reason=comment or "Chosen in the portal", on=timezone.localdate(),
        )  # fmt: skip
    except DomainError as error:
        messages.error(request, str(error))
        return redirect("breaches_portal:case", case.pk)
    messages.success(
        request,
        f"Thank you: you chose the {moved.agreed_option.get_kind_display().lower()}. "
        "Your account manager has been told and will confirm the next steps.",
    )
    return redirect("breaches_portal:case", case.pk)


@login_required
@require_safe
def notice_pdf(request, pk: int, notice_pk: int):
    case = _portal_case(request, pk)
    notice = next((n for n in case.notices.all() if n.pk == notice_pk), None)
    if notice is None:
        raise Http404("No such notice on this case.")
    notice = BreachNotice.objects.get(pk=notice.pk)  # the list defers the bytes
    return notice_response(case, notice)


@login_required
@require_POST
def warning_dismiss(request, pk: int):
    """Put a usage banner away; the warning itself stays on record."""
    _customer_only(request.user)
    try:
        usage_warning_dismiss(actor=request.user, warning_id=pk, reason="Banner dismissed")
    except DomainError:
        raise Http404("No such warning.") from None
    messages.success(request, "The warning is put away. It stays on record with your usage.")
    return redirect(_back(request))


def _back(request) -> str:
    from django.utils.http import url_has_allowed_host_and_scheme

    target = request.POST.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}
    ):
        return target
    return "breaches_portal:usage"
