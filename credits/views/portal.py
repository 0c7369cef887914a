"""The customer portal's credit pages: the policy, the customer's credits, requests, disputes.

Every page is for customer users and shows only their own customer's objects: anything else
is a 404, so nobody learns what exists elsewhere.
"""

import mimetypes
import os
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST

from licensing import access
from licensing.models import Contract
from licensing.money import currency_choices
from licensing.proration import BASES, INTENTS
from licensing.roles import Role, role_of

from .. import access as credit_access
from .. import selectors, services
from ..models import ApprovalStep, Credit, CreditPolicyVersion, Dispute
from ..portal_forms import ChangeRequestForm, CreditFilter, DisputeForm, ResubmitForm

PAGE_SIZE = 25
AWAITING = [Credit.Status.PENDING, Credit.Status.SENT_BACK, Credit.Status.APPROVED]
EXAMPLES_HEADING = "Worked examples"

# The approval chain in customers' words: which kind of person looks at it, never who.
STEP_WORDS = {
    "finance_analyst": "Review by our finance team",
    "finance_approver": "Approval by a finance manager",
    "financial_controller": "Approval by our financial controller",
}
STEP_STATE_WORDS = {
    ApprovalStep.Status.WAITING: "Not started yet",
    ApprovalStep.Status.PENDING: "In progress",
    ApprovalStep.Status.APPROVED: "Done",
    ApprovalStep.Status.REJECTED: "Declined",
    ApprovalStep.Status.SENT_BACK: "Sent back to you",
}


def _customer_only(user):
    customer = access.customer_of(user)
    if customer is None:
        raise PermissionDenied("The portal is for customer users.")
    return customer


REQUESTERS = {Role.CUSTOMER, Role.ACCOUNT_MANAGER, Role.FINANCE_ANALYST, "admin"}


def _may_request_changes(user) -> None:
    # Customers ask for themselves; account managers and analysts ask on a customer's behalf.
    if role_of(user) not in REQUESTERS:
        raise PermissionDenied("Your role may not request contract changes.")


def _own_credit(user, pk) -> Credit:
    """The credit with everything its page shows; another customer's is a 404."""
    credit = credit_access.credit_for_user(user=user, pk=pk)
    return selectors.credit_detail(pk=credit.pk)


# The policy text: a handful of markdown-like marks, everything else escaped.

HEADINGS = (("### ", "h4"), ("## ", "h3"), ("# ", "h2"))


def policy_html(text: str, *, omit_heading: str = "", omit_section: str = "") -> SafeString:
    """Render a policy's text: "#", "##", "###" headings, "- " bullets, "  - " sub-bullets.

    Every piece of text is escaped; only the tags written here reach the page. A "#"
    heading equal to `omit_heading` is left out (the page already shows the title), and so is
    the "##" section titled `omit_section` (the worked examples, shown as tables instead).
    """
    out: list[str] = []
    paragraph: list[str] = []
    items: list[tuple[str, list[str]]] = []
    skipping = False

    def flush_paragraph() -> None:
        if paragraph:
            out.append(format_html("<p>{}</p>", " ".join(paragraph)))
            paragraph.clear()

    def flush_list() -> None:
        if not items:
            return
        parts = []
        for item, subitems in items:
            sub = "".join(format_html("<li>{}</li>", s) for s in subitems)
            parts.append(f"<li>{escape(item)}{f'<ul>{sub}</ul>' if sub else ''}</li>")
        out.append(f"<ul>{''.join(parts)}</ul>")
        items.clear()

    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip():
            flush_paragraph()  # a list goes on across blank lines; a paragraph does not
            continue
        heading = next(((p, tag) for p, tag in HEADINGS if line.startswith(p)), None)
        if heading:
            flush_paragraph()
            flush_list()
            prefix, tag = heading
            title = line[len(prefix) :].strip()
            if tag in ("h2", "h3"):
                skipping = bool(omit_section) and tag == "h3" and title == omit_section
            if skipping or (tag == "h2" and title == omit_heading):
                continue
            out.append(format_html("<{}>{}</{}>", tag, title, tag))
        elif skipping:
            continue
        elif line.startswith("  - "):
            flush_paragraph()
            if not items:
                items.append(("", []))
            items[-1][1].append(line[4:].strip())
        elif line.startswith("- "):
            flush_paragraph()
            items.append((line[2:].strip(), []))
        else:
            flush_list()
            paragraph.append(line.strip())
    flush_paragraph()
    flush_list()
    return mark_safe("".join(out))  # noqa: S308 - every piece above is escaped


def _examples(version: CreditPolicyVersion) -> list[dict]:
    """The version's worked examples with amounts as Decimal, for the money filter."""
    examples = []
    for example in version.examples or []:
        lines = [
            {
                **line,
                "credit": Decimal(line["credit"]),
                "components": [
                    {**c, "credit": Decimal(c["credit"])} for c in line.get("components", [])
                ],
            }
            for line in example.get("lines", [])
        ]
        examples.append({**example, "lines": lines, "total": Decimal(example["total"])})
    return examples


@dataclass(frozen=True)
class VersionRow:
    version: CreditPolicyVersion
    until: date | None  # exclusive: the day the next version took over
    state: str  # "in_force", "scheduled" or "earlier"


def _version_rows(today: date) -> list[VersionRow]:
    versions = list(selectors.published_policies())  # newest first
    in_force = next((v for v in versions if v.effective_from <= today), None)
    rows, following = [], None
    for version in versions:
        if version.effective_from > today:
            state = "scheduled"
        elif version == in_force:
            state = "in_force"
        else:
            state = "earlier"
        until = following.effective_from if following and state != "scheduled" else None
        rows.append(VersionRow(version, until, state))
        following = version
    return rows


def _policy_page(request, version: CreditPolicyVersion, *, rows: list[VersionRow]):
    today = timezone.localdate()
    row = next(r for r in rows if r.version == version)
    in_force = next((r.version for r in rows if r.state == "in_force"), None)
    examples = _examples(version)
    context = {
        "version": version,
        "row": row,
        "in_force": in_force,
        "upcoming": selectors.upcoming_policy(today=today),
        "policy_html": policy_html(
            version.text,
            omit_heading=version.title,
            omit_section=EXAMPLES_HEADING if examples else "",
        ),
        "examples": examples,
    }
    return render(request, "credits_portal/policy.html", context)


@login_required
def policy(request):
    _customer_only(request.user)
    today = timezone.localdate()
    version = selectors.credit_policy_in_force(on=today)
    return _policy_page(request, version, rows=_version_rows(today))


@login_required
def policy_version(request, number: int):
    _customer_only(request.user)
    version = get_object_or_404(selectors.published_policies(), number=number)
    return _policy_page(request, version, rows=_version_rows(timezone.localdate()))


@login_required
def policy_versions(request):
    _customer_only(request.user)
    today = timezone.localdate()
    context = {"rows": _version_rows(today), "upcoming": selectors.upcoming_policy(today=today)}
    return render(request, "credits_portal/policy_versions.html", context)


# The customer's credits


@login_required
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


def _detail_context(request, credit: Credit, **forms) -> dict:
    chain = _chain(credit)
    disputes = list(credit.disputes.all())
    for dispute in disputes:
        dispute.filename = os.path.basename(dispute.attachment.name) if dispute.attachment else ""
    can_dispute = credit.status == Credit.Status.ISSUED and not any(
        d.status == Dispute.Status.OPEN for d in disputes
    )
    can_resubmit = credit.status == Credit.Status.SENT_BACK and request.user.pk in (
        credit.change.requested_by_id,
        credit.calculated_by_id,
    )
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
        "schedule": [Decimal(a) for a in credit.schedule or []],
    }
    if can_dispute:
        context["dispute_form"] = forms.get("dispute_form") or DisputeForm()
    if can_resubmit:
        context["resubmit_form"] = forms.get("resubmit_form") or ResubmitForm(
            policy=credit.policy, current=credit.form
        )
    return context


@login_required
def credit_detail(request, pk: int):
    _customer_only(request.user)
    credit = _own_credit(request.user, pk)
    return render(request, "credits_portal/credit_detail.html", _detail_context(request, credit))


@login_required
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
    )
    messages.success(
        request,
        f"Your dispute of {credit.number} is open. Finance answers by "
        f"{dispute.due_on:%-d %B %Y}; the answer appears on this page.",
    )
    return redirect(reverse("credits_portal:credit", args=[credit.pk]) + "#disputes")


@login_required
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
    form = ResubmitForm(request.POST, policy=credit.policy, current=credit.form)
    if not form.is_valid():
        context = _detail_context(request, credit, resubmit_form=form)
        return render(request, "credits_portal/credit_detail.html", context, status=400)
    services.credit_resubmit(
        actor=request.user,
        credit_id=credit.pk,
        reason=form.cleaned_data["reason"],
        form=form.cleaned_data["credit_form"] or None,
    )
    messages.success(request, "Resubmitted: finance looks at it again from the first step.")
    return redirect("credits_portal:credit", pk=credit.pk)


# Change requests


def _changeable_contracts(user):
    # Only a running contract can be downgraded, paused or ended.
    return (
        access.contracts_for_user(user)
        .filter(status=Contract.Status.ACTIVE)
        .prefetch_related("lines__plan")
        .order_by("-term_start", "number")
    )


@login_required
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
        if contract.status != Contract.Status.ACTIVE:
            messages.error(
                request,
                f"Contract {contract.number} is {contract.get_status_display().lower()}: only "
                f"an active contract can be changed.",
            )
            return redirect("credits_portal:request")
    today = timezone.localdate()
    rules = selectors.policy_rules(selectors.credit_policy_in_force(on=today))
    form_kwargs = {"contract": contract, "rules": rules, "today": today}
    if request.method != "POST" or request.POST.get("action") == "edit":
        data = request.POST if request.method == "POST" else None
        lines = selectors.changeable_lines(contract=contract, on=today)
        form = ChangeRequestForm(data, lines=lines, **form_kwargs)
        if data is not None:
            form.is_valid()  # back from the quote: show what was entered, errors and all
        return _request_page(request, contract, form)
    # Quantities are read on the date the customer chose, as the engine will read them.
    effective = _posted_date(request.POST.get("effective_date")) or today
    lines = selectors.changeable_lines(contract=contract, on=max(effective, today))
    form = ChangeRequestForm(request.POST, lines=lines, **form_kwargs)
    if not form.is_valid():
        return _request_page(request, contract, form, status=400)
    data = form.cleaned_data
    preview = selectors.change_quote_preview(
        contract=contract, intent=data["intent"], effective_date=data["effective_date"],
        changes=form.changes(),
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
        form=data["credit_form"], note=data["note"],
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
        return date.fromisoformat(raw or "")
    except ValueError:
        return None


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
def change_request_done(request, pk: int):
    _customer_only(request.user)
    access_base = credit_access.change_requests_for_user(request.user)
    credit_access.change_request_for_user(user=request.user, pk=pk)  # else 404
    change = selectors.change_request_detail(base=access_base, pk=pk)
    if hasattr(change, "credit"):
        return redirect("credits_portal:credit", pk=change.credit.pk)
    return render(request, "credits_portal/request_done.html", {"change": change})


# The calculator: a page over the public API, which does all the arithmetic.

CALCULATOR_EXAMPLE = {
    "currency": "USD",
    "intent": "downgrade",
    "period_start": "2026-03-01",
    "period_end": "2026-04-01",
    "effective_date": "2026-03-16",
    "lines": [
        {"id": "seats", "basis": "seat", "amount_paid": "1500.00", "quantity_before": 50,
         "quantity_after": 20},
        {"id": "api", "basis": "usage", "amount_paid": "1000.00", "included_units": 1000000,
         "units_used": 400000},
        {"id": "suite", "basis": "bundle", "amount_paid": "900.00", "components": [
            {"id": "editor", "standalone_price": "20.00", "quantity_before": 10,
             "quantity_after": 5},
            {"id": "viewer", "standalone_price": "5.00", "quantity_before": 40,
             "quantity_after": 40},
        ]},
    ],
}  # fmt: skip


@login_required
@ensure_csrf_cookie
def calculator(request):
    _customer_only(request.user)
    context = {
        "example": CALCULATOR_EXAMPLE,
        "currencies": [code for code, _ in currency_choices()],
        "intents": INTENTS,
        "bases": BASES,
        "api_url": reverse("credit-calculator"),
        "policy": selectors.credit_policy_in_force(on=timezone.localdate()),
    }
    return render(request, "credits_portal/calculator.html", context)
