from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe
from django_fsm import has_transition_perm

from . import access, selectors, services
from .filters import ContractFilter, EntitlementFilter
from .forms import contract_transition_form, entitlement_transition_form
from .models import Contract, Entitlement, ScheduledChange
from .roles import FINANCE_ROLES, Role, is_staff_role, role_of

PAGE_SIZE = 20
ATTENTION_ROWS = 10
MINI_ROWS = 10
ACTIVITY_ROWS = 25
ENDING_WITHIN_DAYS = 90
ENDING_ROWS = 25


def _staff_only(user) -> None:
    if not is_staff_role(user):
        raise PermissionDenied("This page is for LicenseDesk staff.")


def _allowed(obj, names, user) -> list[tuple[str, str]]:
    obj.as_of = timezone.localdate()  # the page is the edge: date-bound guards judge by today
    return [
        (name, services.TRANSITION_LABELS[name])
        for name in names
        if has_transition_perm(getattr(obj, name), user)
    ]


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _safe_next(request, fallback: str) -> str:
    """A path on this site from the form's `next`, or the fallback: never an error.

    Asked before the change is written, so a hostile `next` cannot turn a committed change into
    a 500 (a malformed URL raises in urlsplit; a newline cannot go into a header).
    """
    target = request.POST.get("next") or ""
    try:
        safe = url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
    except ValueError:
        safe = False
    if safe and target.startswith("/") and not target.startswith("//") and target.isprintable():
        return target
    return fallback


@login_required
@require_safe
def dashboard(request):
    _staff_only(request.user)
    role = role_of(request.user)
    contracts = access.contracts_for_user(request.user)
    by_status = dict(contracts.values_list("status").annotate(n=Count("id")).order_by())
    context = {
        "status_counts": [(s, label, by_status.get(s, 0)) for s, label in Contract.Status.choices],
        "view": "finance" if role in FINANCE_ROLES else "operations",
        "is_manager": role == Role.ACCOUNT_MANAGER,
        "horizon_days": ENDING_WITHIN_DAYS,
    }
    if role in FINANCE_ROLES:
        context.update(_finance_dashboard(contracts))
    else:
        manager = context["is_manager"]
        context.update(_operations_dashboard(request.user, contracts, manager=manager))
    return render(request, "licensing/dashboard.html", context)


def _operations_dashboard(user, contracts, *, manager: bool) -> dict:
    attention = selectors.entitlements_needing_attention(base=access.entitlements_for_user(user))
    context = {"attention": attention[:ATTENTION_ROWS], "attention_total": attention.count()}
    if manager:
        mine = contracts.filter(
            account_manager=user, status__in=selectors.OPEN_CONTRACT_STATUSES
        ).order_by("term_end", "number")
        context["mine"] = selectors.contract_list(base=mine)[:MINI_ROWS]
        context["mine_total"] = mine.count()
    else:
        ending = _ending_soon(contracts, statuses=[Contract.Status.ACTIVE])
        context["ending"] = selectors.contract_list(base=ending)[:MINI_ROWS]
    return context


def _finance_dashboard(contracts) -> dict:
    open_statuses = [Contract.Status.ACTIVE, Contract.Status.SUSPENDED]
    ending_soon = _ending_soon(contracts, statuses=open_statuses)
    ending = list(selectors.contracts_with_annual_value(base=ending_soon)[:ENDING_ROWS])
    today = timezone.localdate()
    for contract in ending:
        contract.days_left = (contract.term_end - today).days
    return {
        "value_by_currency": selectors.contract_value_by_currency(
            base=contracts.filter(status=Contract.Status.ACTIVE)
        ),
        "ending": ending,
        "ending_total": ending_soon.count(),
    }


def _ending_soon(contracts, *, statuses):
    today = timezone.localdate()
    return contracts.filter(
        status__in=statuses,
        term_end__gte=today,
        term_end__lt=today + timedelta(ENDING_WITHIN_DAYS),
    ).order_by("term_end", "number")


@login_required
@require_safe
def contract_list(request):
    _staff_only(request.user)
    base = selectors.contract_list(base=access.contracts_for_user(request.user))
    filterset = ContractFilter(request.GET, queryset=base, request=request)
    queryset = filterset.qs if filterset.is_valid() else base.none()
    if not request.GET.get("ordering"):
        queryset = queryset.order_by("-term_start", "number")
    context = {
        "filter": filterset,
        "page": _page(request, queryset),
        "ordering": request.GET.get("ordering", ""),
    }
    template = "licensing/contract_list.html"
    if request.htmx and not request.htmx.boosted:
        template = "licensing/partials/contract_table.html"
    return render(request, template, context)


def _contract_context(request, contract: Contract) -> dict:
    entitlements = list(contract.entitlements.all())
    for ent in entitlements:
        ent.actions = _allowed(ent, services.ENTITLEMENT_TRANSITIONS, request.user)
    activity = selectors.contract_activity(contract=contract, limit=ACTIVITY_ROWS)
    return {
        "contract": contract,
        "entitlements": entitlements,
        # Termination has a page of its own, with its dry-run plan (a registered action).
        "contract_actions": [
            action
            for action in _allowed(contract, services.CONTRACT_TRANSITIONS, request.user)
            if action[0] != "terminate"
        ],
        "activity": activity,
        "activity_truncated": len(activity) >= ACTIVITY_ROWS,
        "totals": selectors.contract_line_totals(contract=contract),
        "scheduled": _cancellable(
            request, selectors.scheduled_changes(base=contract.schedule.all())
        ),
        "cancel_column": request.user.has_perm("licensing.change_entitlement"),
    }


def _cancellable(request, scheduled) -> list:
    """The pending changes; for a user who may call changes off, each is told whether this
    one may be called off now, and why not."""
    changes = list(scheduled)
    if not request.user.has_perm("licensing.change_entitlement"):
        return changes
    today = timezone.localdate()
    for change in changes:
        change.cancel_refusal = services.scheduled_change_cancel_refusal(
            actor=request.user, change=change, on=today
        )
        change.may_cancel = change.cancel_refusal is None
    return changes


@login_required
@require_safe
def contract_detail(request, pk: int):
    _staff_only(request.user)
    base = access.contracts_for_user(request.user)
    access.contract_for_user(user=request.user, pk=pk)
    contract = selectors.contract_detail(base=base, pk=pk)
    return render(request, "licensing/contract_detail.html", _contract_context(request, contract))


@login_required
@require_safe
def entitlement_detail(request, pk: int):
    _staff_only(request.user)
    entitlement = access.entitlement_for_user(user=request.user, pk=pk)
    context = {
        "entitlement": entitlement,
        "actions": _allowed(entitlement, services.ENTITLEMENT_TRANSITIONS, request.user),
        "history": selectors.entitlement_history(entitlement=entitlement),
        "ledger": selectors.ledger_for_entitlement(entitlement=entitlement),
        "scheduled": _cancellable(
            request, selectors.scheduled_changes(base=entitlement.schedule.all())
        ),
        "cancel_column": request.user.has_perm("licensing.change_entitlement"),
    }
    return render(request, "licensing/entitlement_detail.html", context)


def _transition_view(request, *, obj, form, run, names, fallback: str, template: str):
    if not form.is_valid():
        # Offer again only the changes allowed now; the full list was only needed to validate.
        allowed = _allowed(obj, names, request.user)
        form.fields["transition"].choices = allowed
        context = {"object": obj, "form": form, "cancel_url": fallback, "allowed": allowed}
        return render(request, template, context, status=400)
    target = _safe_next(request, fallback)
    data = form.cleaned_data
    changed = run(
        transition=data["transition"], reason=data["reason"], expected_version=data["version"]
    )
    messages.success(
        request,
        f"{changed} is now {_state_label(changed).lower()}. Reason recorded: “{data['reason']}”",
    )
    return redirect(target)


def _state_label(obj) -> str:
    if isinstance(obj, Entitlement):
        return obj.get_state_display()
    return obj.get_status_display()


@login_required
@require_POST
def contract_transition(request, pk: int):
    contract = access.contract_for_user(user=request.user, pk=pk, write=True)

    def run(**kwargs):
        if kwargs["transition"] == "terminate":
            # Termination starts the contract's deprovisioning run, effective today.
            from .deprovisioning.services import contract_terminate

            kwargs.pop("transition")
            return contract_terminate(
                actor=request.user, contract_id=contract.pk, on=timezone.localdate(), **kwargs
            )[0]
        return services.contract_transition(actor=request.user, contract_id=contract.pk, **kwargs)

    return _transition_view(
        request,
        obj=contract,
        form=contract_transition_form(request.POST),
        run=run,
        names=services.CONTRACT_TRANSITIONS,
        fallback=contract.get_absolute_url(),
        template="licensing/transition_form.html",
    )


@login_required
@require_POST
def entitlement_transition(request, pk: int):
    entitlement = access.entitlement_for_user(user=request.user, pk=pk, write=True)

    def run(**kwargs):
        return services.entitlement_transition(
            actor=request.user, entitlement_id=entitlement.pk, **kwargs
        )

    return _transition_view(
        request,
        obj=entitlement,
        form=entitlement_transition_form(request.POST),
        run=run,
        names=services.ENTITLEMENT_TRANSITIONS,
        fallback=entitlement.get_absolute_url(),
        template="licensing/transition_form.html",
    )


@login_required
@require_POST
def scheduled_change_cancel(request, pk: int):
    """Call off a change that has not taken effect; refusals come back as a page message."""
    _staff_only(request.user)
    change = get_object_or_404(ScheduledChange, pk=pk)
    contract = access.contract_for_user(user=request.user, pk=change.contract_id, write=True)
    target = _safe_next(request, contract.get_absolute_url())
    services.scheduled_change_cancel(
        actor=request.user, change_id=change.pk, reason=request.POST.get("reason", ""),
        on=timezone.localdate(),
    )  # fmt: skip
    messages.success(
        request,
        f"Called off: {change.target_name}, {change.description}. Nothing changes on that date.",
    )
    return redirect(target)


# The customer portal: the same selectors, scoped to the signed-in customer by access.py.


def _customer_only(user):
    customer = access.customer_of(user)
    if customer is None:
        raise PermissionDenied("The portal is for customer users.")
    return customer


@login_required
@require_safe
def portal_home(request):
    customer = _customer_only(request.user)
    contracts = selectors.contract_list(base=access.contracts_for_user(request.user)).order_by(
        "-term_start"
    )
    counts = dict(
        access.entitlements_for_user(request.user)
        .values_list("state")
        .annotate(n=Count("id"))
        .order_by()
    )
    context = {
        "customer": customer,
        "contracts": contracts,
        # In lifecycle order, with the labels customers see elsewhere, and only states they have.
        "state_counts": [
            (state, label, counts[state])
            for state, label in Entitlement.State.choices
            if state in counts
        ],
    }
    return render(request, "portal/home.html", context)


@login_required
@require_safe
def portal_entitlements(request):
    _customer_only(request.user)
    base = selectors.entitlement_list(base=access.entitlements_for_user(request.user))
    filterset = EntitlementFilter(request.GET, queryset=base, request=request)
    filterset.form.fields.pop("contract", None)
    queryset = filterset.qs if filterset.is_valid() else base.none()
    return render(
        request,
        "portal/entitlements.html",
        {"filter": filterset, "page": _page(request, queryset.order_by("contract_id", "kind"))},
    )


@login_required
@require_safe
def portal_contract(request, pk: int):
    _customer_only(request.user)
    base = access.contracts_for_user(request.user)
    access.contract_for_user(user=request.user, pk=pk)
    contract = selectors.contract_detail(base=base, pk=pk)
    totals = selectors.contract_line_totals(contract=contract)
    scheduled = selectors.scheduled_changes(base=contract.schedule.all())
    return render(
        request,
        "portal/contract.html",
        {"contract": contract, "totals": totals, "scheduled": scheduled},
    )
