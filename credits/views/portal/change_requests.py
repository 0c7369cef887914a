"""Asking for a change: choose, describe, see the exact quote, then request."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_safe

from licensing import access
from licensing.roles import Role, role_of
from licensing.validation import date_in_range

from ... import access as credit_access
from ... import selectors, services
from ...portal_forms import ChangeRequestForm
from ._common import (
    AWAITING,
    STEP_WORDS,
    _customer_only,
    _may_request_changes,
)

# Change requests


def _changeable_contracts(user):
    return (
        access.contracts_for_user(user)
        .filter(status__in=services.CHANGEABLE_STATUSES)
        .prefetch_related("lines__plan")
        .order_by("-term_start", "number")
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def change_request(request):
    _may_request_changes(request.user)
    contract_id = request.POST.get("contract") or request.GET.get("contract")
    if not contract_id:
        contracts = list(_changeable_contracts(request.user))
        if len(contracts) != 1:
            context = {"contracts": contracts}
            return render(request, "credits_portal/request_choose.html", context)
        contract = contracts[0]
    else:
        contract = access.contract_for_user(user=request.user, pk=contract_id)  # else 404
        refusal = services.change_request_refusal(actor=request.user, contract=contract)
        if refusal:
            messages.error(request, refusal)
            return redirect("credits_portal:request")
    today = timezone.localdate()
    rules = selectors.policy_rules(selectors.credit_policy_in_force(on=today))
    form_kwargs = {
        "contract": contract,
        "rules": rules,
        "today": today,
        "actor": request.user,
    }
    if request.method != "POST" or request.POST.get("action") == "edit":
        data = request.POST if request.method == "POST" else None
        lines = selectors.changeable_lines(contract=contract, on=today)
        form = ChangeRequestForm(data, lines=lines, **form_kwargs)
        if data is not None:
            form.is_valid()  # back from the quote: show what was entered, errors and all
        return _request_page(request, contract, form)
    # Quantities are read on the date the customer chose, as the engine will read them.
    effective = _posted_date(request.POST.get("effective_date")) or today
    on = effective if services.may_backdate(request.user) else max(effective, today)
    lines = selectors.changeable_lines(contract=contract, on=on)
    form = ChangeRequestForm(request.POST, lines=lines, **form_kwargs)
    if not form.is_valid():
        return _request_page(request, contract, form, status=400)
    data = form.cleaned_data
    preview = selectors.change_quote_preview(
        contract=contract, intent=data["intent"], effective_date=data["effective_date"],
        changes=form.changes(), resume_date=data.get("resume_date"),
    )  # fmt: skip
    if preview.errors:
        _add_engine_errors(form, preview.errors)
        return _request_page(request, contract, form, status=400)
    if request.POST.get("action") != "request":
        return _request_page(request, contract, form, preview=preview)
    if request.POST.get("expected_total") != str(preview.total):
        messages.warning(
            request,
            "The quote changed since you saw it (another request may have used part of the "
            "same payment). Check the new quote below before you request.",
        )
        return _request_page(request, contract, form, preview=preview, status=409)
    change = services.change_request_create(
        actor=request.user, contract_id=contract.pk, intent=data["intent"],
        effective_date=data["effective_date"], lines=form.changes(),
        form=data["credit_form"], note=data["note"], on=today,
        deferred_to=form.deferred_to_id(), resume_date=data.get("resume_date"),
    )  # fmt: skip
    credit = getattr(change, "credit", None)
    if role_of(request.user) != Role.CUSTOMER:
        # On a customer's behalf: back to the back office's own pages.
        if credit is None:
            messages.success(request, "The change is recorded and carried out; no credit is due.")
            return redirect(contract.get_absolute_url())
        messages.success(request, f"Recorded on the customer's behalf: {credit} awaits approval.")
        return redirect("credits:credit", pk=credit.pk)
    if credit is None:
        return redirect("credits_portal:request-done", pk=change.pk)
    messages.success(
        request,
        f"Your request is recorded. Finance now approves the credit of "
        f"{change.currency} {change.total:,}; you can follow it here.",
    )
    return redirect("credits_portal:credit", pk=credit.pk)


def _posted_date(raw: str | None) -> date | None:
    try:
        day = date.fromisoformat(raw or "")
    except ValueError:
        return None
    return day if date_in_range(day) else None  # the form refuses it, naming the field


def _add_engine_errors(form: ChangeRequestForm, errors: dict[int, dict[str, str]]) -> None:
    """Put the engine's refusals next to the line they concern."""
    by_id = {line.contract_line.pk: line for line in form.lines}
    for line_id, fields in errors.items():
        line = by_id.get(line_id)
        for field, message in fields.items():
            if field == "effective_date":
                form.add_error("effective_date", message)
            elif line is not None:
                form.add_error(form.line_field_name(line), message)
            else:
                form.add_error(None, message)


def _request_page(request, contract, form, *, preview=None, status=200):
    # A request still awaiting a decision is not in the ledger yet, so a new one on the same
    # lines is priced as if it had not been made: say so before the customer asks twice.
    awaiting = (
        credit_access.credits_for_user(request.user)
        .filter(contract=contract, status__in=AWAITING)
        .select_related("change")
        .order_by("created_at")
    )
    context = {
        "contract": contract,
        "form": form,
        "preview": preview,
        "contract_count": _changeable_contracts(request.user).count(),
        "awaiting": list(awaiting),
    }
    if preview is not None:
        rules = selectors.policy_rules(preview.policy)
        context["approval_steps"] = [
            STEP_WORDS.get(step.role, "Approval by our finance team")
            for step in rules.steps_for(preview.total)
        ]
        context["form_label"] = dict(form.fields["credit_form"].choices).get(
            form.cleaned_data["credit_form"]
        )
    return render(request, "credits_portal/request.html", context, status=status)


@login_required
@require_safe
def change_request_done(request, pk: int):
    _customer_only(request.user)
    access_base = credit_access.change_requests_for_user(request.user)
    credit_access.change_request_for_user(user=request.user, pk=pk)  # else 404
    change = selectors.change_request_detail(base=access_base, pk=pk)
    if hasattr(change, "credit"):
        return redirect("credits_portal:credit", pk=change.credit.pk)
    return render(request, "credits_portal/request_done.html", {"change": change})
