"""The customer's credits: list, one credit, its credit note, disputes, resubmission."""

import mimetypes
import os
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from licensing.errors import ActionForbidden, ConflictError, DomainError, TransitionNotAllowed
from licensing.pricing.wording import money_text

from ... import access as credit_access
from ... import selectors, services
from ...models import ApprovalStep, Credit
from ...portal_forms import CreditFilter, DisputeForm, ResubmitForm, WithdrawForm
from ._common import (
    PAGE_SIZE,
    STEP_STATE_WORDS,
    STEP_WORDS,
    _customer_only,
    _own_credit,
)

# The customer's credits


@login_required
@require_safe
def credit_list(request):
    _customer_only(request.user)
    base = selectors.portal_credit_list(base=credit_access.credits_for_user(request.user))
    filterset = CreditFilter(request.GET, queryset=base)
    queryset = filterset.qs if filterset.is_valid() else base.none()
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "credits_portal/credit_list.html",
        {"filter": filterset, "page": page, "filtered": bool(request.GET.get("status"))},
    )


@dataclass(frozen=True)
class StepView:
    order: int
    title: str
    state: str
    state_label: str
    when: object
    reason: str


def _chain(credit: Credit) -> list[StepView]:
    steps = []
    for step in credit.steps.all():
        # Why a step declined or sent the credit back is the customer's business; an approver's
        # note on an approval is finance's.
        reason = step.reason if step.status in (step.Status.REJECTED, step.Status.SENT_BACK) else ""
        when = step.decided_at if step.decided_at else step.due_at
        steps.append(
            StepView(step.order, STEP_WORDS.get(step.role, "Approval by our finance team"),
                     step.status, STEP_STATE_WORDS.get(step.status, step.get_status_display()),
                     when, reason)
        )  # fmt: skip
    return steps


def _status_sentence(credit: Credit, chain: list[StepView]) -> str:
    if credit.status == Credit.Status.PENDING:
        current = next((s for s in chain if s.state == ApprovalStep.Status.PENDING), None)
        if current is None:
            return "Awaiting approval by our finance team."
        return (
            f"Awaiting approval: step {current.order} of {len(chain)}, "
            f"{current.title[0].lower()}{current.title[1:]}, is in progress."
        )
    if credit.status == Credit.Status.SENT_BACK:
        return "Sent back: finance asks for a change or more information before approving."
    if credit.status == Credit.Status.APPROVED:
        return "Approved: the credit note is being issued."
    if credit.status == Credit.Status.ISSUED:
        return f"Issued as {credit.number} on {credit.issued_at:%-d %B %Y}."
    return "Rejected: no credit will be issued for this request."


def _resubmit_form(credit: Credit, data=None) -> ResubmitForm:
    return ResubmitForm(
        data, policy=credit.policy, current=credit.form, intent=credit.change.intent,
        lines=list(credit.change.lines.select_related("contract_line__plan")),
    )  # fmt: skip


def _detail_context(request, credit: Credit, **forms) -> dict:
    chain = _chain(credit)
    disputes = list(credit.disputes.all())
    for dispute in disputes:
        dispute.filename = os.path.basename(dispute.attachment.name) if dispute.attachment else ""
    can_dispute = services.dispute_open_refusal(actor=request.user, credit=credit) is None
    can_resubmit = services.credit_resubmit_refusal(actor=request.user, credit=credit) is None
    can_withdraw = services.credit_withdraw_refusal(actor=request.user, credit=credit) is None
    context = {
        "credit": credit,
        "change": credit.change,
        "lines": selectors.credit_calculation(credit=credit),
        "notes": (credit.change.quote or {}).get("notes", []),
        "chain": chain,
        "status_sentence": _status_sentence(credit, chain),
        "disputes": disputes,
        "can_dispute": can_dispute,
        "can_resubmit": can_resubmit,
        "can_withdraw": can_withdraw,
        "schedule": [Decimal(a) for a in credit.schedule or []],
        "scheduled": selectors.credit_scheduled_changes(credit=credit),
    }
    if can_dispute:
        context["dispute_form"] = forms.get("dispute_form") or DisputeForm()
    if can_withdraw:
        context["withdraw_form"] = forms.get("withdraw_form") or WithdrawForm()
    if can_resubmit:
        context["resubmit_form"] = forms.get("resubmit_form") or _resubmit_form(credit)
    return context


@login_required
@require_safe
def credit_detail(request, pk: int):
    _customer_only(request.user)
    credit = _own_credit(request.user, pk)
    return render(request, "credits_portal/credit_detail.html", _detail_context(request, credit))


@login_required
@require_safe
def credit_note_pdf(request, pk: int):
    _customer_only(request.user)
    credit = _own_credit(request.user, pk)
    if credit.status != Credit.Status.ISSUED:
        raise Http404("A credit note exists once the credit is issued.")
    # Imported here: the PDF renderer (WeasyPrint) is only needed, and only loaded, on download.
    from credits.pdf import render_credit_note

    policy_url = request.build_absolute_uri(reverse("credits_portal:policy"))
    pdf = render_credit_note(credit, portal_url=policy_url)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{credit.number}.pdf"'
    return response


@login_required
@require_POST
def dispute_open(request, pk: int):
    _customer_only(request.user)
    credit = _own_credit(request.user, pk)
    form = DisputeForm(request.POST, request.FILES)
    if not form.is_valid():
        context = _detail_context(request, credit, dispute_form=form)
        return render(request, "credits_portal/credit_detail.html", context, status=400)
    dispute = services.dispute_open(
        actor=request.user,
        credit_id=credit.pk,
        reason=form.cleaned_data["reason"],
        attachment=form.cleaned_data["attachment"],
        on=timezone.localdate(),
    )
    messages.success(
        request,
        f"Your dispute of {credit.number} is open. Finance answers by "
        f"{dispute.due_on:%-d %B %Y}; the answer appears on this page.",
    )
    return redirect(reverse("credits_portal:credit", args=[credit.pk]) + "#disputes")


@login_required
@require_safe
def dispute_attachment(request, pk: int, dispute_pk: int):
    _customer_only(request.user)
    credit = credit_access.credit_for_user(user=request.user, pk=pk)
    dispute = credit.disputes.filter(pk=dispute_pk).first()
    if dispute is None or not dispute.attachment:
        raise Http404("This dispute has no attachment.")
    name = os.path.basename(dispute.attachment.name)
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(
        dispute.attachment.open("rb"), as_attachment=True, filename=name, content_type=content_type
    )


@login_required
@require_POST
def credit_resubmit(request, pk: int):
    _customer_only(request.user)
    credit = _own_credit(request.user, pk)
    form = _resubmit_form(credit, request.POST)
    if form.is_valid():
        try:
            credit = services.credit_resubmit(
                actor=request.user, credit_id=credit.pk, reason=form.cleaned_data["reason"],
                form=form.cleaned_data["credit_form"] or None, corrections=form.corrections(),
            )  # fmt: skip
        except DomainError as refusal:
            if isinstance(refusal, (ActionForbidden, TransitionNotAllowed, ConflictError)):
                raise
            form.place_error(refusal)
    if form.errors:
        context = _detail_context(request, credit, resubmit_form=form)
        return render(request, "credits_portal/credit_detail.html", context, status=400)
    messages.success(
        request, f"Resubmitted for {money_text(credit.amount, credit.currency)}: finance looks "
        f"at it again from the first step.",
    )  # fmt: skip
    return redirect("credits_portal:credit", pk=credit.pk)


@login_required
@require_POST
def credit_withdraw(request, pk: int):
    _customer_only(request.user)
    credit = _own_credit(request.user, pk)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        context = _detail_context(request, credit, withdraw_form=form)
        return render(request, "credits_portal/credit_detail.html", context, status=400)
    services.credit_withdraw(
        actor=request.user, credit_id=credit.pk, reason=form.cleaned_data["reason"]
    )
    messages.success(request, "Withdrawn: no credit is given, and you may request again.")
    return redirect("credits_portal:credit", pk=credit.pk)
