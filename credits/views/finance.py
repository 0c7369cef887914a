"""Finance pages under /finance/: the approval queue, a page per credit, disputes, policies.

Every LicenseDesk staff role may read them; the services decide who may change anything, and
their refusals (DomainError) become page messages through the shell's middleware.
"""

from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from licensing.errors import (
    ActionForbidden,
    ConflictError,
    DomainError,
    TransitionNotAllowed,
    add_to_form,
)
from licensing.pricing.wording import money_text
from licensing.roles import Role, is_staff_role

from .. import selectors, services
from ..filters import CreditQueueFilter, DisputeFilter
from ..forms import (
    DecisionForm,
    DisputeResolveForm,
    ExchangeRateForm,
    PolicyDraftForm,
    ReasonedDecisionForm,
    StaffResubmitForm,
)
from ..models import Credit, CreditPolicyVersion, Dispute, ExchangeRate
from ..pdf import policy_page_path, render_credit_note

PAGE_SIZE = 25
HISTORY_ROWS = 50
ROLE_LABELS = dict(Role.choices)
# The queue is a wide table: each credit form in a word or two.
SHORT_FORMS = {
    "credit_note": "Credit note",
    "future_discount": "Future discount",
    "service_extension": "Service extension",
    "deferral": "Deferral",
    "plan_change": "Smaller plan",
}


def _viewer_only(user) -> None:
    # Finance roles, account managers and auditors read these pages; customers never do.
    if not is_staff_role(user):
        raise PermissionDenied("The finance pages are for LicenseDesk staff.")


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _credit(pk: int) -> Credit:
    try:
        return selectors.credit_detail(pk=pk)
    except Credit.DoesNotExist:
        raise Http404(f"No credit with id {pk}.") from None


@login_required
@require_safe
def queue(request):
    _viewer_only(request.user)
    base = selectors.credit_queue(now=timezone.now())
    filterset = CreditQueueFilter(request.GET, queryset=base, request=request)
    queryset = filterset.qs if filterset.is_valid() else base.none()
    page = _page(request, queryset)
    for credit in page:
        credit.step_role_label = ROLE_LABELS.get(credit.step_role, credit.step_role)
        credit.form_short = SHORT_FORMS.get(credit.form, credit.get_form_display())
    context = {
        "filter": filterset,
        "page": page,
        "ordering": request.GET.get("ordering", ""),
        "now": timezone.now(),
    }
    template = "credits/queue.html"
    if request.htmx and not request.htmx.boosted:
        template = "credits/partials/queue_table.html"
    return render(request, template, context)


def _decision_refusal(user, credit: Credit) -> str:
    """Why the user may not decide the credit now, in the services' own words; '' if they may."""
    return services.credit_decision_refusal(actor=user, credit=credit) or ""


def _credit_context(request, credit: Credit, **forms) -> dict:
    steps = list(credit.steps.all())
    for step in steps:
        step.role_label = ROLE_LABELS.get(step.role, step.role)
    pending = next((s for s in steps if s.status == s.Status.PENDING), None)
    refusal = _decision_refusal(request.user, credit) if pending else ""
    disputes = list(credit.disputes.all())
    # Every part of the credit's change, read once: the page lists the pending ones, and a
    # reversal is possible only while none has taken effect.
    parts = list(selectors.credit_scheduled_changes(credit=credit, pending_only=False))
    for dispute in disputes:
        if services.dispute_resolve_refusal(actor=request.user, dispute=dispute) is None:
            dispute.form = forms.get(f"resolve_{dispute.pk}") or _resolve_form(credit, dispute)
            dispute.reversal_refusal = services.reversal_refusal(credit, parts=parts)
    history = selectors.credit_history(credit=credit)
    sent_back = credit.status == Credit.Status.SENT_BACK
    may_resubmit = sent_back and not services.credit_resubmit_refusal(
        actor=request.user, credit=credit
    )
    may_withdraw = sent_back and not services.credit_withdraw_refusal(
        actor=request.user, credit=credit
    )
    may_reject_sent_back = sent_back and not services.credit_reject_refusal(
        actor=request.user, credit=credit
    )
    return {
        "credit": credit,
        "change": credit.change,
        "lines": selectors.credit_calculation(credit=credit),
        "quote": credit.change.quote or {},
        "schedule": [Decimal(amount) for amount in credit.schedule],
        "scheduled": [part for part in parts if part.state == part.State.PENDING],
        "steps": steps,
        "pending_step": pending,
        "may_decide": pending is not None and not refusal,
        "next_number": (
            selectors.next_credit_note_number(year=timezone.localtime().year)
            if pending is not None and not refusal and pending.order == len(steps)
            else ""
        ),
        "refusal": refusal,
        "approve_form": forms.get("approve") or DecisionForm(auto_id="id_approve_%s"),
        "reject_form": forms.get("reject") or _reject_form(),
        "send_back_form": forms.get("send_back") or _send_back_form(),
        "history": history[:HISTORY_ROWS],
        "disputes": disputes,
        "now": timezone.now(),
        "may_resubmit": may_resubmit,
        "may_withdraw": may_withdraw,
        "may_reject_sent_back": may_reject_sent_back,
        "resubmit_form": forms.get("resubmit")
        or (_resubmit_form(credit) if may_resubmit else None),
        "withdraw_form": forms.get("withdraw") or _withdraw_form(),
    }


def _resubmit_form(credit: Credit, data=None):
    rules = selectors.policy_rules(credit.policy)
    return StaffResubmitForm(
        data, auto_id="id_resubmit_%s", allowed_forms=rules.allowed_forms, current=credit.form,
        lines=list(credit.change.lines.select_related("contract_line__plan")),
        intent=credit.change.intent,
    )  # fmt: skip


def _withdraw_form(data=None):
    return ReasonedDecisionForm(data, auto_id="id_withdraw_%s")


def _resolve_form(credit: Credit, dispute: Dispute, data=None):
    return DisputeResolveForm(
        data, auto_id=f"id_dispute{dispute.pk}_%s", lines=list(credit.change.lines.all())
    )


def _reject_form(data=None):
    return ReasonedDecisionForm(data, auto_id="id_reject_%s")


def _send_back_form(data=None):
    return ReasonedDecisionForm(data, auto_id="id_send_back_%s")


@login_required
@require_safe
def credit_detail(request, pk: int):
    _viewer_only(request.user)
    credit = _credit(pk)
    return render(request, "credits/credit_detail.html", _credit_context(request, credit))


def _decide(request, pk: int, *, form, key: str, run, done):
    _viewer_only(request.user)
    credit = _credit(pk)
    if not form.is_valid():
        context = _credit_context(request, credit, **{key: form})
        return render(request, "credits/credit_detail.html", context, status=400)
    data = form.cleaned_data
    try:
        changed = run(
            actor=request.user, credit_id=credit.pk, reason=data["reason"],
            expected_version=data["version"],
        )  # fmt: skip
    except DomainError as refusal:
        if refusal.field not in form.fields:
            raise  # not about this form's input: a message on the page it came from
        add_to_form(form, refusal)
        context = _credit_context(request, credit, **{key: form})
        return render(request, "credits/credit_detail.html", context, status=400)
    messages.success(request, done(changed))
    return redirect(changed.get_absolute_url())


def _approved(credit: Credit) -> str:
    if credit.status == Credit.Status.ISSUED:
        return f"You approved the last step: {credit.number} is issued and posted to the account."
    return f"You approved your step; {credit} now goes to the next approver."


@login_required
@require_POST
def credit_approve(request, pk: int):
    return _decide(
        request, pk, form=DecisionForm(request.POST, auto_id="id_approve_%s"), key="approve",
        run=services.credit_approve, done=_approved,
    )  # fmt: skip


@login_required
@require_POST
def credit_reject(request, pk: int):
    return _decide(
        request, pk, form=_reject_form(request.POST), key="reject",
        run=services.credit_reject,
        done=lambda credit: f"You rejected {credit}. The requester sees your reason.",
    )  # fmt: skip


@login_required
@require_POST
def credit_send_back(request, pk: int):
    return _decide(
        request, pk, form=_send_back_form(request.POST), key="send_back",
        run=services.credit_send_back,
        done=lambda credit: f"You sent {credit} back to its requester with your reason.",
    )  # fmt: skip


@login_required
@require_POST
def credit_resubmit(request, pk: int):
    """A staff requester's own flow for a credit sent back to them: correct, then resubmit."""
    _viewer_only(request.user)
    credit = _credit(pk)
    form = _resubmit_form(credit, request.POST)
    if not form.is_valid():
        context = _credit_context(request, credit, resubmit=form)
        return render(request, "credits/credit_detail.html", context, status=400)
    data = form.cleaned_data
    try:
        credit = services.credit_resubmit(
            actor=request.user, credit_id=credit.pk, reason=data["reason"],
            form=data["credit_form"] or None, corrections=form.corrections(),
            expected_version=data["version"],
        )  # fmt: skip
    except DomainError as refusal:
        if isinstance(refusal, (ActionForbidden, TransitionNotAllowed, ConflictError)):
            raise  # not about this form's input: a message on the page it came from
        form.place_error(refusal)
        context = _credit_context(request, credit, resubmit=form)
        return render(request, "credits/credit_detail.html", context, status=400)
    messages.success(
        request, f"You resubmitted {credit} for {money_text(credit.amount, credit.currency)}: "
        f"approval starts again from step 1.",
    )  # fmt: skip
    return redirect(credit.get_absolute_url())


@login_required
@require_POST
def credit_withdraw(request, pk: int):
    return _decide(
        request, pk, form=_withdraw_form(request.POST), key="withdraw",
        run=services.credit_withdraw,
        done=lambda credit: f"You withdrew {credit}. Its contract line is free for a new "
        f"request.",
    )  # fmt: skip


@login_required
@require_safe
def credit_note(request, pk: int):
    _viewer_only(request.user)
    credit = _credit(pk)
    if credit.status != Credit.Status.ISSUED:
        raise Http404("Only an issued credit has a credit note.")
    pdf = render_credit_note(credit, portal_url=request.build_absolute_uri(policy_page_path()))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{credit.number}.pdf"'
    return response


# Disputes


@login_required
@require_safe
def dispute_list(request):
    _viewer_only(request.user)
    base = selectors.dispute_list()
    filterset = DisputeFilter(request.GET, queryset=base, request=request)
    queryset = filterset.qs if filterset.is_valid() else base.none()
    context = {"filter": filterset, "page": _page(request, queryset), "today": timezone.localdate()}
    return render(request, "credits/dispute_list.html", context)


@login_required
@require_POST
def dispute_resolve(request, pk: int):
    _viewer_only(request.user)
    dispute = _dispute(pk)
    credit = _credit(dispute.credit_id)
    form = _resolve_form(credit, dispute, request.POST)

    def again():
        context = _credit_context(request, credit, **{f"resolve_{dispute.pk}": form})
        return render(request, "credits/credit_detail.html", context, status=400)

    if not form.is_valid():
        return again()
    data = form.cleaned_data
    try:
        if data["outcome"] == "dismissed":
            resolved = services.dispute_reject(
                actor=request.user, dispute_id=dispute.pk, reason=data["resolution"]
            )
        else:
            resolved = services.dispute_uphold(
                actor=request.user, dispute_id=dispute.pk, resolution=data["resolution"],
                outcome=data["outcome"], corrections=form.corrections(),
                on=timezone.localdate(),
            )  # fmt: skip
    except DomainError as refusal:
        if refusal.field not in ("corrections", "outcome", "reason"):
            raise
        form.add_error("outcome" if refusal.field != "reason" else "resolution", str(refusal))
        return again()
    if resolved.corrective_credit_id:
        corrective = resolved.corrective_credit
        messages.success(
            request, f"The dispute is upheld: {corrective} of "
            f"{corrective.amount:,} {corrective.currency} goes through approval.",
        )  # fmt: skip
        return redirect(corrective.get_absolute_url())
    messages.success(
        request, f"The dispute of {credit} is {resolved.get_status_display().lower()}."
    )
    return redirect(credit.get_absolute_url() + "#disputes")


@login_required
@require_safe
def dispute_attachment(request, pk: int):
    """Attachments never sit behind a public media URL: staff fetch them through this check."""
    _viewer_only(request.user)
    dispute = _dispute(pk)
    if not dispute.attachment:
        raise Http404("This dispute has no attachment.")
    try:
        handle = dispute.attachment.open("rb")
    except FileNotFoundError:
        raise Http404("The attachment's file is missing.") from None
    name = dispute.attachment.name.rsplit("/", 1)[-1]
    return FileResponse(handle, as_attachment=True, filename=name)


def _dispute(pk: int) -> Dispute:
    try:
        return Dispute.objects.select_related("credit").get(pk=pk)
    except Dispute.DoesNotExist:
        raise Http404(f"No dispute with id {pk}.") from None


# Policies


def _may_draft(user) -> bool:
    # The same permission the policy services require; they check it again.
    return user.has_perm("credits.add_creditpolicyversion")


def _policy_context(request, form=None) -> dict:
    versions = list(selectors.policy_versions())
    today = timezone.localdate()
    in_force = selectors.credit_policy_in_force_or_none(on=today)
    may_draft = _may_draft(request.user)
    if may_draft and form is None:
        latest = versions[0] if versions else None
        initial = PolicyDraftForm.initial_from(latest)
        # The first of next month: after today, so customers are told before it applies.
        initial["effective_from"] = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        form = PolicyDraftForm(initial=initial)
    return {
        "versions": versions,
        "in_force": in_force,
        "may_draft": may_draft,
        "form": form,
        "today": today,
    }


@login_required
@require_safe
def policy_list(request):
    _viewer_only(request.user)
    return render(request, "credits/policy_list.html", _policy_context(request))


@login_required
@require_POST
def policy_draft(request):
    _viewer_only(request.user)
    if not _may_draft(request.user):
        raise PermissionDenied("Only the financial controller drafts credit policies.")
    form = PolicyDraftForm(request.POST)
    if not form.is_valid():
        context = _policy_context(request, form)
        return render(request, "credits/policy_list.html", context, status=400)
    data = form.cleaned_data
    policy = services.policy_create_draft(
        actor=request.user, rules=form.rules, title=data["title"],
        introduction=data["introduction"], effective_from=data["effective_from"],
        change_summary=data["change_summary"],
    )  # fmt: skip
    messages.success(request, f"{policy.name} is saved as a draft. Publish it when it is ready.")
    return redirect("credits:policies")


@login_required
@require_POST
def policy_publish(request, pk: int):
    _viewer_only(request.user)
    if not CreditPolicyVersion.objects.filter(pk=pk).exists():
        raise Http404(f"No credit policy version with id {pk}.")
    policy = services.policy_publish(actor=request.user, policy_id=pk, on=timezone.localdate())
    messages.success(
        request,
        f"{policy.name} is published and takes effect on {policy.effective_from:%-d %B %Y}. "
        f"Customers are being told by e-mail.",
    )
    return redirect("credits:policies")


# Exchange rates


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def exchange_rates(request):
    """Finance's dated rates: every row kept, the newest per pair first."""
    _viewer_only(request.user)
    may_add = services.exchange_rate_add_refusal(actor=request.user) is None
    form = None
    if request.method == "POST":
        if not may_add:
            raise PermissionDenied("Finance keeps the exchange rates.")
        form = ExchangeRateForm(request.POST)
        if form.is_valid():
            try:
                row = services.exchange_rate_add(actor=request.user, **form.cleaned_data)
            except DomainError as refusal:
                add_to_form(form, refusal)
            else:
                messages.success(request, f"Added: {row}.")
                return redirect("credits:exchange-rates")
    elif may_add:
        form = ExchangeRateForm(initial={"base": "USD", "valid_from": timezone.localdate()})
    rates = ExchangeRate.objects.select_related("created_by").order_by(
        "currency", "base", "-valid_from"
    )
    context = {"page": _page(request, rates), "form": form, "may_add": may_add}
    status = 400 if form is not None and form.errors else 200
    return render(request, "credits/exchange_rates.html", context, status=status)
