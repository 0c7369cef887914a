"""The account manager's pages: the case queue and the case page."""

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from licensing.errors import DomainError, add_to_form
from licensing.roles import is_staff_role

from . import page_selectors, usage_selectors
from .case_forms import ClassifyForm, EmailForm, LogForm, MoveForm, NoticeForm
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


# What each move does, said before it is made (data-confirm) and on the button.
CONSEQUENCES = {
    "review": "Start reviewing case {pk}? The customer is not told yet.",
    "confirm": "Confirm the breach on case {pk}? Remediation options are priced from the "
    "contract; nothing is sent to {customer} yet.",
    "dismiss": "Dismiss case {pk}? It closes with no charge and no notice to {customer}.",
    "offer": "Offer the remediation options to {customer}? They are e-mailed the proposal and "
    "get a deadline to choose.",
    "agree": "Record that {customer} agreed to the chosen option? A final milestone is set for "
    "usage to be back within the entitlement.",
    "start_remediation": "Start remediation on case {pk}? The agreed option is now being "
    "carried out.",
    "resolve": "Resolve case {pk}? {customer} is e-mailed a resolution confirmation and the "
    "case closes.",
    "escalate": "Escalate case {pk}? Account management is told, and ending an escalated case "
    "takes a second person's approval.",
}


def _blocker(case: BreachCase, name: str) -> str | None:
    """Why a move the state allows would still be refused by its guard, said beforehand."""
    from .services import cases as case_services

    if name == "offer" and not case.has_options():
        return case_services._guard_message(case, name)
    in_remediation = case.state == BreachCase.State.IN_REMEDIATION
    if name == "resolve" and in_remediation and not case_services._compliant_since_agreement(case):
        return case_services._guard_message(case, name)
    return None


def _moves(request, case: BreachCase, bound: dict) -> list[dict]:
    from .services import allowed_transitions
    from .services.cases import LABELS as LABELS_BY_MOVE

    customer = case.entitlement.contract.customer.name
    offered = [o for o in case.options.all() if o.dropped_at is None]
    moves = []
    for name in allowed_transitions(request.user, case):
        form = bound.get(name) or MoveForm(options=offered, prefix=name)
        if name != "agree":
            form.fields.pop("option", None)
        moves.append({
            "name": name, "label": LABELS_BY_MOVE[name], "form": form,
            "blocker": _blocker(case, name),
            "confirm": CONSEQUENCES[name].format(pk=case.pk, customer=customer),
            "danger": name in ("dismiss", "escalate"),
        })  # fmt: skip
    return moves


def _case_context(request, case: BreachCase, **bound) -> dict:
    from .notices import notice_kinds_allowed
    from .services._common import may_manage

    today = timezone.localdate()
    manages = may_manage(request.user)
    kinds = notice_kinds_allowed(request.user, case) if manages else []
    return {
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
        "manages": manages,
        # Options and earlier periods are settled before the offer.
        "editable": manages and case.state == BreachCase.State.CONFIRMED,
        "decisions": [("included", "Include"), ("waived", "Waive")],
        "moves": _moves(request, case, bound) if manages else [],
        "classify_form": bound.get("classify")
        or ClassifyForm(
            initial={
                "classification": case.classification,
                "rationale": case.classification_rationale,
            },
            prefix="classify",
        ),  # fmt: skip
        "log_form": bound.get("log") or LogForm(prefix="log"),
        "email_form": bound.get("email") or EmailForm(prefix="email"),
        "notice_form": bound.get("notice") or NoticeForm(kinds=kinds, prefix="notice"),
        "notice_kinds": kinds,
    }


@login_required
@require_safe
def case_detail(request, pk: int):
    _staff_only(request.user)
    case = _case(request, pk)
    return render(request, "breaches/case_detail.html", _case_context(request, case))


def _invalid(request, pk: int, **bound) -> HttpResponse:
    case = _case(request, pk)
    messages.error(request, "Some of what you entered needs another look; see below.")
    return render(request, "breaches/case_detail.html", _case_context(request, case, **bound),
                  status=400)  # fmt: skip


def _done(request, case_id: int, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("breaches:case", case_id)


def _refused(request, case_id: int, error: DomainError) -> HttpResponse:
    messages.error(request, str(error))
    return redirect("breaches:case", case_id)


@login_required
@require_POST
def case_move(request, pk: int, transition: str):
    from .services import breach_case_transition
    from .services.cases import LABELS as LABELS_BY_MOVE

    _staff_only(request.user)
    case = _case(request, pk)
    if transition not in LABELS_BY_MOVE:
        raise Http404("No such move.")
    offered = [o for o in case.options.all() if o.dropped_at is None]
    form = MoveForm(request.POST, options=offered, prefix=transition)
    if transition != "agree":
        form.fields.pop("option", None)
    if not form.is_valid():
        return _invalid(request, pk, **{transition: form})
    try:
        moved = breach_case_transition(
            actor=request.user, case_id=case.pk, transition=transition,
            reason=form.cleaned_data["reason"], on=timezone.localdate(),
            option=form.cleaned_data.get("option") or None,
        )  # fmt: skip
    except DomainError as error:
        return _refused(request, case.pk, error)
    if moved.state == case.state:
        return _done(request, case.pk, "Your request is recorded; a second person must approve.")
    return _done(request, case.pk, f"Case {case.pk} is now {moved.get_state_display().lower()}.")


@login_required
@require_POST
def case_classify(request, pk: int):
    from .services import breach_case_classify

    _staff_only(request.user)
    case = _case(request, pk)
    form = ClassifyForm(request.POST, prefix="classify")
    if not form.is_valid():
        return _invalid(request, pk, classify=form)
    try:
        breach_case_classify(
            actor=request.user, case_id=case.pk,
            classification=form.cleaned_data["classification"],
            rationale=form.cleaned_data["rationale"],
        )  # fmt: skip
    except DomainError as error:
        return _refused(request, case.pk, error)
    label = dict(ClassifyForm.base_fields["classification"].choices)[
        form.cleaned_data["classification"]
    ]
    return _done(request, case.pk, f"Case {case.pk} is classified {label.lower()}.")


@login_required
@require_POST
def case_log(request, pk: int):
    from .services import communication_log

    _staff_only(request.user)
    case = _case(request, pk)
    form = LogForm(request.POST, prefix="log")
    if not form.is_valid():
        return _invalid(request, pk, log=form)
    data = form.cleaned_data
    try:
        entry = communication_log(
            actor=request.user, case_id=case.pk, kind=data["kind"], subject=data["subject"],
            body=data["body"], occurred_at=data["occurred_at"], reason=data["reason"],
            participants=data["participants"],
        )  # fmt: skip
    except DomainError as error:
        add_to_form(form, error)
        return _invalid(request, pk, log=form)
    return _done(request, case.pk, f"{entry.get_kind_display()} logged: {entry.subject}.")


@login_required
@require_POST
def case_email(request, pk: int):
    from .services import communication_send_email

    _staff_only(request.user)
    case = _case(request, pk)
    form = EmailForm(request.POST, prefix="email")
    if not form.is_valid():
        return _invalid(request, pk, email=form)
    try:
        entry = communication_send_email(
            actor=request.user, case_id=case.pk, template=form.cleaned_data["template"],
            reason=form.cleaned_data["reason"], note=form.cleaned_data["note"],
        )  # fmt: skip
    except DomainError as error:
        add_to_form(form, error)
        return _invalid(request, pk, email=form)
    return _done(request, case.pk, f"E-mail sent to {', '.join(entry.recipients)}.")


@login_required
@require_POST
def case_notice(request, pk: int):
    from .notices import breach_notice_issue, notice_kinds_allowed

    _staff_only(request.user)
    case = _case(request, pk)
    form = NoticeForm(request.POST, kinds=notice_kinds_allowed(request.user, case),
                      prefix="notice")  # fmt: skip
    if not form.is_valid():
        return _invalid(request, pk, notice=form)
    try:
        notice = breach_notice_issue(
            actor=request.user, case_id=case.pk, kind=form.cleaned_data["kind"],
            on=timezone.localdate(), reason=form.cleaned_data["reason"],
        )  # fmt: skip
    except DomainError as error:
        return _refused(request, case.pk, error)
    return _done(request, case.pk, f"{notice.get_kind_display()} issued; the customer can "
                                   "read it in the portal.")  # fmt: skip


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


@login_required
@require_POST
def option_change(request, pk: int, option_pk: int, action: str):
    """Drop an option from the offer, or put it back, before the offer is made."""
    from .services import remediation_option_drop, remediation_option_restore

    _staff_only(request.user)
    case = _case(request, pk)
    option = next((o for o in case.options.all() if o.pk == option_pk), None)
    service = {"drop": remediation_option_drop, "restore": remediation_option_restore}.get(action)
    if option is None or service is None:
        raise Http404("No such option on this case.")
    reason = (request.POST.get("reason") or "").strip() or f"Option {action}ped on the case page"
    try:
        service(actor=request.user, option_id=option.pk, reason=reason)
    except DomainError as error:
        return _refused(request, case.pk, error)
    verb = "dropped from the offer" if action == "drop" else "back in the offer"
    return _done(request, case.pk, f"{option.get_kind_display()} {verb}.")


@login_required
@require_POST
def earlier_decide(request, pk: int, item_pk: int, decision: str):
    """Include an earlier period's over-use in the true-up, or waive it."""
    from .services import earlier_overuse_decide

    _staff_only(request.user)
    case = _case(request, pk)
    item = next((x for x in case.earlier_overuse.all() if x.pk == item_pk), None)
    if item is None or decision not in ("included", "waived"):
        raise Http404("No such period on this case.")
    reason = (request.POST.get("reason") or "").strip() or f"Earlier over-use {decision}"
    try:
        earlier_overuse_decide(actor=request.user, item_id=item.pk, decision=decision,
                               reason=reason)  # fmt: skip
    except DomainError as error:
        return _refused(request, case.pk, error)
    return _done(request, case.pk, f"Over-use from {item.period_start:%-d %b %Y} {decision}.")
