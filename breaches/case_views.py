"""The account manager's pages: the case queue and the case page."""

from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST, require_safe

from licensing.errors import ActionForbidden, DomainError, TransitionNotAllowed, add_to_form
from licensing.roles import is_staff_role

from . import mail, page_selectors, usage_selectors
from .case_forms import (
    AssignForm,
    ClassifyForm,
    EmailForm,
    LogForm,
    MilestoneForm,
    MoveForm,
    NoteForm,
    NoticeForm,
    OptionAdjustForm,
    ReasonForm,
)
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


def _blocker(request, case: BreachCase, name: str) -> str | None:
    """Why a move the state allows would still be refused by its guard, said beforehand."""
    from .services import breach_case_offer_refusal, breach_case_resolve_refusal

    if name == "offer":
        return breach_case_offer_refusal(request.user, case)
    if name == "resolve" and case.state == BreachCase.State.IN_REMEDIATION:
        return breach_case_resolve_refusal(request.user, case)
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
            "blocker": _blocker(request, case, name),
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
    managers = page_selectors.account_managers() if manages else []
    options = list(case.options.all())
    milestones = list(case.milestones.all())
    # Options and earlier periods are settled before the offer.
    editable = manages and case.state == BreachCase.State.CONFIRMED
    for o in options:  # each option's own forms, bound where this request posted them
        o.forms = {
            "adjust": bound.get(f"adjust-{o.pk}")
            or OptionAdjustForm(option=o, prefix=f"adjust-{o.pk}"),
            "change": bound.get(f"option-{o.pk}") or ReasonForm(
                prefix=f"option-{o.pk}",
                initial={"reason": "Put back in the offer" if o.dropped_at else ""}),
        } if editable else {}  # fmt: skip
    for m in milestones:
        m.complete_form = (
            bound.get(f"complete-{m.pk}")
            or ReasonForm(prefix=f"complete-{m.pk}", initial={"reason": "Done as agreed"})
        ) if manages and case.is_open and m.done_on is None else None  # fmt: skip
    return {
        "case": case,
        "today": today,
        "evidence": case.evidence,
        "over_percent": _over_percent(case),
        "chart": evidence_chart(case, on=today),
        "chart_id": "evidence-chart",
        "context": page_selectors.customer_context(case=case, on=today),
        "options": options,
        "milestones": milestones,
        "complete_forms": any(m.complete_form for m in milestones),
        "milestone_form": bound.get("milestone")
        or MilestoneForm(managers=managers, prefix="milestone"),
        "communications": list(case.communications.all()),
        "notices": list(case.notices.all()),
        "events": list(case.events.all()),
        "earlier": list(case.earlier_overuse.all()),
        "manages": manages,
        "editable": editable,
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
        "assign_form": bound.get("assign") or AssignForm(
            managers=managers, prefix="assign", initial={"owner": case.owner_id}),
        "note_form": bound.get("note") or NoteForm(
            prefix="note", initial={"notes": case.staff_notes}),
        "deprovision": _deprovision(request, case, bound, on=today) if manages else None,
        "log_form": bound.get("log") or LogForm(prefix="log"),
        "email_form": bound.get("email") or EmailForm(prefix="email"),
        "notice_form": bound.get("notice") or NoticeForm(kinds=kinds, prefix="notice"),
        "notice_kinds": kinds,
    }  # fmt: skip


def _deprovision(request, case: BreachCase, bound: dict, *, on: date) -> dict | None:
    """Where the case stands on taking back its entitlement, and what this user may do."""
    from .services import breach_deprovision_refusal

    if case.classification != "willful" and case.deprovision_requested_at is None:
        return None  # only a willful case may ever come to this: nothing to say otherwise
    refusal = breach_deprovision_refusal(request.user, case, on=on)
    requested = case.deprovision_requested_at is not None
    mine = case.deprovision_requested_by_id == request.user.pk
    return {
        "refusal": refusal,
        "requested": requested,
        "can_request": refusal is None and not requested,
        "can_approve": refusal is None and requested and not mine,
        "mine": mine,
        "form": bound.get("deprovision") or ReasonForm(prefix="deprovision"),
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


def _post(request, pk: int, *, key: str, form, run) -> HttpResponse:
    """The one way a case-page form is handled, so each action is only its own parts.

    `form(case, data, files)` builds the bound form (its prefix is `key`); `run(case, data)`
    calls the service and returns what the page says on success. A bad form, or a service's
    refusal of what was entered, comes back on the page (400) with the errors at the top of
    the form and by their field; a refusal of the action itself (the case's state, the
    user's role: 409 and 403) is said as a message on the case page, as it stands.
    """
    _staff_only(request.user)
    case = _case(request, pk)
    bound = form(case, request.POST, request.FILES)
    if not bound.is_valid():
        return _invalid(request, pk, **{key: bound})
    try:
        text = run(case, bound.cleaned_data)
    except (TransitionNotAllowed, ActionForbidden) as error:
        if error.field is None:
            return _refused(request, case.pk, error)
        add_to_form(bound, error)
        return _invalid(request, pk, **{key: bound})
    except DomainError as error:
        add_to_form(bound, error)
        return _invalid(request, pk, **{key: bound})
    return _done(request, case.pk, text)


def _offered(case: BreachCase) -> list:
    return [o for o in case.options.all() if o.dropped_at is None]


def _move_form(transition: str):
    def build(case, data, files):
        form = MoveForm(data, options=_offered(case), prefix=transition)
        if transition != "agree":
            form.fields.pop("option", None)
        return form

    return build


@login_required
@require_POST
def case_move(request, pk: int, transition: str):
    from .services import breach_case_transition
    from .services.cases import LABELS as LABELS_BY_MOVE

    if transition not in LABELS_BY_MOVE:
        raise Http404("No such move.")

    def run(case, data):
        moved = breach_case_transition(
            actor=request.user, case_id=case.pk, transition=transition, reason=data["reason"],
            on=timezone.localdate(), option=data.get("option") or None,
        )  # fmt: skip
        if moved.state == case.state:
            return "Your request is recorded; a second person must approve."
        return f"Case {case.pk} is now {moved.get_state_display().lower()}."

    return _post(request, pk, key=transition, form=_move_form(transition), run=run)


@login_required
@require_POST
def case_classify(request, pk: int):
    from .services import breach_case_classify

    def run(case, data):
        breach_case_classify(actor=request.user, case_id=case.pk,
                             classification=data["classification"],
                             rationale=data["rationale"])  # fmt: skip
        label = dict(ClassifyForm.base_fields["classification"].choices)[data["classification"]]
        return f"Case {case.pk} is classified {label.lower()}."

    return _post(request, pk, key="classify", run=run,
                 form=lambda case, data, files: ClassifyForm(data, prefix="classify"))  # fmt: skip


def _uploads(data) -> list:
    from .services.communications import attachment_from_upload

    return [attachment_from_upload(data["attachments"])] if data.get("attachments") else []


@login_required
@require_POST
def case_log(request, pk: int):
    from .services import communication_log

    def run(case, data):
        entry = communication_log(
            actor=request.user, case_id=case.pk, kind=data["kind"], subject=data["subject"],
            body=data["body"], occurred_at=data["occurred_at"], reason=data["reason"],
            participants=data["participants"], attachments=_uploads(data),
        )  # fmt: skip
        return f"{entry.get_kind_display()} logged: {entry.subject}."

    return _post(request, pk, key="log", run=run,
                 form=lambda case, data, files: LogForm(data, files, prefix="log"))  # fmt: skip


@login_required
@require_POST
def case_email(request, pk: int):
    from .services import communication_send_email

    def run(case, data):
        entry = communication_send_email(
            actor=request.user, case_id=case.pk, template=data["template"],
            reason=data["reason"], note=data["note"], attachments=_uploads(data),
        )  # fmt: skip
        return f"E-mail sent to {', '.join(entry.recipients)}."

    return _post(request, pk, key="email", run=run,
                 form=lambda case, data, files: EmailForm(data, files, prefix="email"))  # fmt: skip


@login_required
@require_POST
def case_notice(request, pk: int):
    from .notices import breach_notice_issue, notice_kinds_allowed

    def form(case, data, files):
        return NoticeForm(data, kinds=notice_kinds_allowed(request.user, case), prefix="notice")

    def run(case, data):
        notice = breach_notice_issue(actor=request.user, case_id=case.pk, kind=data["kind"],
                                     on=timezone.localdate(), reason=data["reason"])  # fmt: skip
        if any(mail.customer_contacts(case.entitlement.contract.customer)):
            return (f"{notice.get_kind_display()} issued and e-mailed to the customer's contacts "
                    "with the PDF attached; they can also read it in the portal.")  # fmt: skip
        return (f"{notice.get_kind_display()} issued; the customer can read it in the portal. "
                "No contact address is on file, so nothing was e-mailed.")  # fmt: skip

    return _post(request, pk, key="notice", form=form, run=run)


@login_required
@require_POST
def case_assign(request, pk: int):
    from .services import breach_case_assign

    def run(case, data):
        owner = next((u for u in page_selectors.account_managers() if u.pk == data["owner"]),
                     None)  # fmt: skip
        case = breach_case_assign(actor=request.user, case_id=case.pk, owner=owner,
                                  reason=data["reason"])  # fmt: skip
        return f"Case {case.pk} is now {owner.get_full_name() or owner.get_username()}'s."

    def form(case, data, files):
        return AssignForm(data, managers=page_selectors.account_managers(), prefix="assign")

    return _post(request, pk, key="assign", form=form, run=run)


@login_required
@require_POST
def case_note(request, pk: int):
    from .services import breach_case_note

    def run(case, data):
        breach_case_note(actor=request.user, case_id=case.pk, notes=data["notes"],
                         reason=data["reason"])  # fmt: skip
        return "Staff notes saved." if data["notes"].strip() else "Staff notes cleared."

    return _post(request, pk, key="note", run=run,
                 form=lambda case, data, files: NoteForm(data, prefix="note"))  # fmt: skip


@login_required
@require_POST
def milestone_add(request, pk: int):
    from .services import milestone_create

    def run(case, data):
        milestone = milestone_create(
            actor=request.user, case_id=case.pk, title=data["title"], due_on=data["due_on"],
            on=timezone.localdate(), reason=data["reason"], our_contact_id=data["our_contact"],
            customer_contact_name=data["customer_contact_name"],
            customer_contact_email=data["customer_contact_email"], is_final=data["is_final"],
        )  # fmt: skip
        return f"Milestone set: {milestone.title} by {milestone.due_on:%-d %B %Y}."

    def form(case, data, files):
        return MilestoneForm(data, managers=page_selectors.account_managers(), prefix="milestone")

    return _post(request, pk, key="milestone", form=form, run=run)


@login_required
@require_POST
def milestone_done(request, pk: int, milestone_pk: int):
    from .services import milestone_complete

    def form(case, data, files):
        if not any(m.pk == milestone_pk for m in case.milestones.all()):
            raise Http404("No such milestone on this case.")
        return ReasonForm(data, prefix=f"complete-{milestone_pk}")

    def run(case, data):
        milestone = milestone_complete(actor=request.user, milestone_id=milestone_pk,
                                       on=timezone.localdate(), reason=data["reason"])  # fmt: skip
        return f"Milestone met: {milestone.title}."

    return _post(request, pk, key=f"complete-{milestone_pk}", form=form, run=run)


@login_required
@require_POST
def case_deprovision(request, pk: int, step: str):
    """Ask for the entitlement to be taken back (`request`), or approve that (`approve`)."""
    from .services import breach_deprovision_approve, breach_deprovision_request

    service = {"request": breach_deprovision_request,
               "approve": breach_deprovision_approve}.get(step)  # fmt: skip
    if service is None:
        raise Http404("No such step.")

    def run(case, data):
        case = service(actor=request.user, case_id=case.pk, reason=data["reason"],
                       on=timezone.localdate())  # fmt: skip
        if step == "request":
            return "Deprovisioning asked for; a second person must approve it."
        return f"{case.entitlement.name} is being taken back: deprovisioning approved."

    return _post(request, pk, key="deprovision", run=run,
                 form=lambda case, data, files: ReasonForm(data, prefix="deprovision"))  # fmt: skip


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


def _option(case: BreachCase, option_pk: int):
    option = next((o for o in case.options.all() if o.pk == option_pk), None)
    if option is None:
        raise Http404("No such option on this case.")
    return option


@login_required
@require_POST
def option_change(request, pk: int, option_pk: int, action: str):
    """Drop an option from the offer, or put it back, before the offer is made."""
    from .services import remediation_option_drop, remediation_option_restore

    service = {"drop": remediation_option_drop, "restore": remediation_option_restore}.get(action)
    if service is None:
        raise Http404("No such change.")

    def form(case, data, files):
        _option(case, option_pk)
        return ReasonForm(data, prefix=f"option-{option_pk}")

    def run(case, data):
        option = service(actor=request.user, option_id=option_pk, reason=data["reason"])
        verb = "dropped from the offer" if action == "drop" else "back in the offer"
        return f"{option.get_kind_display()} {verb}."

    return _post(request, pk, key=f"option-{option_pk}", form=form, run=run)


@login_required
@require_POST
def option_adjust(request, pk: int, option_pk: int):
    """Change an option's figures or wording before the offer."""
    from .services import remediation_option_adjust

    def form(case, data, files):
        return OptionAdjustForm(data, option=_option(case, option_pk), prefix=f"adjust-{option_pk}")

    def run(case, data):
        option = _option(case, option_pk)
        changes = OptionAdjustForm.changes(data, option)
        option = remediation_option_adjust(actor=request.user, option_id=option.pk,
                                           reason=data["reason"], **changes)  # fmt: skip
        return f"{option.get_kind_display()} adjusted."

    return _post(request, pk, key=f"adjust-{option_pk}", form=form, run=run)


@login_required
@require_POST
def earlier_decide(request, pk: int, item_pk: int, decision: str):
    """Include an earlier period's over-use in the true-up, or waive it."""
    from .services import earlier_overuse_decide

    if decision not in ("included", "waived"):
        raise Http404("No such decision.")

    def form(case, data, files):
        if not any(x.pk == item_pk for x in case.earlier_overuse.all()):
            raise Http404("No such period on this case.")
        return ReasonForm(data, prefix=f"earlier-{item_pk}")

    def run(case, data):
        item = earlier_overuse_decide(actor=request.user, item_id=item_pk, decision=decision,
                                      reason=data["reason"])  # fmt: skip
        return f"Over-use from {item.period_start:%-d %b %Y} {decision}."

    return _post(request, pk, key=f"earlier-{item_pk}", form=form, run=run)


@login_required
@require_safe
def attachment_file(request, pk: int, attachment_pk: int):
    """A file kept with a communication, as it was kept, behind the read check."""
    from .models import CommunicationAttachment
    from .services.communications import may_read_attachment

    _staff_only(request.user)
    case = _case(request, pk)
    attachment = (
        CommunicationAttachment.objects.select_related("communication__case__entitlement__contract")
        .filter(communication__case=case, pk=attachment_pk)
        .first()
    )
    if attachment is None or not may_read_attachment(request.user, attachment):
        raise Http404("No such attachment on this case.")
    response = HttpResponse(bytes(attachment.content), content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(True, attachment.filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["X-Content-SHA256"] = attachment.sha256
    return response
