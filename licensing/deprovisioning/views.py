"""Deprovisioning's pages, for staff only: customers get a 404, whoever's contract it is.

Account managers and administrators act; every other staff role reads. Each action a page
offers is asked of the rule beside its service (``*_refusal``), and the service enforces it
again; a refusal reaches the person as a message, never as an error page.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_fsm import has_transition_perm

from .. import access
from ..errors import DomainError, add_to_form
from ..models import ConnectedSystem, Contract, PolicyVersion
from ..roles import is_staff_role
from ..views import _safe_next
from . import decisions, reconciliation, selectors, services
from .forms import BlackoutForm, HoldForm, PolicyDraftForm, ReasonForm, TerminateForm
from .models import (
    BlackoutWindow,
    Delivery,
    DeprovisioningHold,
    DeprovisioningRun,
    ReconciliationFinding,
)

RUN_PERM = "licensing.change_deprovisioningrun"
HOLDERS_PER_PAGE = 50
RECENT_RUNS = 15


def _viewer(user) -> None:
    # A customer learns nothing, not even that a page exists for their own contract.
    if not is_staff_role(user):
        raise Http404("Not found.")


def _get(model, pk, label: str, queryset=None):
    try:
        return (queryset if queryset is not None else model.objects).get(pk=pk)
    except (model.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No {label} with id {pk}.") from None


def _contract(request, pk) -> Contract:
    _viewer(request.user)
    return access.contract_for_user(user=request.user, pk=pk)


def _refused(request, error: DomainError, target: str):
    messages.error(request, str(error))
    return redirect(target)


# The contract: its runs, holds and blackout windows ---------------------------------------


def may_terminate(user, contract: Contract) -> bool:
    contract.as_of = timezone.localdate()
    return has_transition_perm(contract.terminate, user)


def contract_panel(request, contract: Contract) -> dict | None:
    """The deprovisioning section of the contract page (registered with the shell)."""
    if not is_staff_role(request.user):
        return None
    return _contract_context(request, contract)


def _contract_context(
    request, contract, *, hold_form=None, blackout_form=None, lift=None, remove=None
):
    user = request.user
    today = timezone.localdate()
    blackouts = list(selectors.blackouts_of_contract(contract.pk))
    for window in blackouts:
        window.remove_refusal = decisions.blackout_remove_refusal(user, window, on=today)
        window.remove_form = (
            remove[1] if remove and remove[0] == window.pk
            else ReasonForm(auto_id=f"unblack{window.pk}_%s")
        )  # fmt: skip
    holds = list(selectors.holds_of_contract(contract.pk))
    for hold in holds:
        hold.refusal = services.hold_lift_refusal(user, hold) if hold.is_active else None
        # Several forms on one page: ids of their own, so each label names its own field.
        hold.lift_form = (
            lift[1] if lift and lift[0] == hold.pk else ReasonForm(auto_id=f"lift{hold.pk}_%s")
        )
    return {
        "contract": contract,
        "runs": list(selectors.runs_of_contract(contract.pk)[:RECENT_RUNS]),
        "holds": holds,
        "active_holds": [h for h in holds if h.is_active],
        "blackouts": blackouts,
        "remove_failed": bool(remove),
        "may_hold": user.has_perm("licensing.add_deprovisioninghold"),
        "may_blackout": user.has_perm("licensing.add_blackoutwindow"),
        "may_terminate": may_terminate(user, contract),
        "hold_form": hold_form or HoldForm(auto_id="hold_%s"),
        "blackout_form": blackout_form or BlackoutForm(auto_id="blackout_%s"),
        "today": timezone.localdate(),
        "next": request.get_full_path(),
    }


@login_required
@require_safe
def contract_page(request, pk):
    contract = _contract(request, pk)
    return render(
        request, "licensing/deprovisioning/contract.html", _contract_context(request, contract)
    )


def _contract_form_failed(request, contract, status=400, **forms):
    context = _contract_context(request, contract, **forms)
    context["next"] = _safe_next(request, contract.get_absolute_url())
    return render(request, "licensing/deprovisioning/contract.html", context, status=status)


@login_required
@require_POST
def hold_place(request, pk):
    contract = _contract(request, pk)
    target = _safe_next(request, contract.get_absolute_url())
    form = HoldForm(request.POST, auto_id="hold_%s")
    if not form.is_valid():
        return _contract_form_failed(request, contract, hold_form=form)
    try:
        hold = services.hold_place(
            actor=request.user, contract=contract, on=timezone.localdate(), **form.cleaned_data
        )
    except DomainError as error:
        add_to_form(form, error)
        return _contract_form_failed(request, contract, hold_form=form)
    messages.success(
        request,
        f"{hold.get_kind_display()} placed on {contract.number}: nothing is taken away while it "
        "stands. Somebody other than you must lift it.",
    )
    return redirect(target)


@login_required
@require_POST
def hold_lift(request, pk):
    _viewer(request.user)
    hold = _get(DeprovisioningHold, pk, "hold")
    contract = access.contract_for_user(user=request.user, pk=hold.contract_id)
    target = _safe_next(request, contract.get_absolute_url())
    form = ReasonForm(request.POST, auto_id=f"lift{hold.pk}_%s")
    if not form.is_valid():
        return _contract_form_failed(request, contract, lift=(hold.pk, form))
    try:
        services.hold_lift(
            actor=request.user, hold_id=hold.pk, reason=form.cleaned_data["reason"],
            on=timezone.localdate(),
        )  # fmt: skip
    except DomainError as error:
        return _refused(request, error, target)
    run = selectors.open_run_of(contract.pk)
    follow = ""
    if run is not None and run.state not in DeprovisioningRun.OPEN_STATES:
        follow = f" Run {run.pk} is now {run.get_state_display().lower()}."
    elif run is not None:
        follow = f" Run {run.pk} continues: {run.get_state_display().lower()}."
    messages.success(request, f"The {hold.get_kind_display().lower()} is lifted.{follow}")
    return redirect(target)


@login_required
@require_POST
def blackout_add(request, pk):
    contract = _contract(request, pk)
    target = _safe_next(request, contract.get_absolute_url())
    form = BlackoutForm(request.POST, auto_id="blackout_%s")
    if not form.is_valid():
        return _contract_form_failed(request, contract, blackout_form=form)
    try:
        window = services.blackout_add(
            actor=request.user, contract=contract, on=timezone.localdate(), **form.cleaned_data
        )
    except DomainError as error:
        add_to_form(form, error)
        return _contract_form_failed(request, contract, blackout_form=form)
    messages.success(
        request,
        f"Nothing will be taken away from {window.starts_on:%-d %b %Y} until "
        f"{window.ends_on:%-d %b %Y}: a run due then waits for the window's end.",
    )
    return redirect(target)


@login_required
@require_POST
def blackout_remove(request, pk):
    _viewer(request.user)
    window = _get(BlackoutWindow, pk, "blackout window")
    contract = access.contract_for_user(user=request.user, pk=window.contract_id)
    target = _safe_next(request, contract.get_absolute_url())
    form = ReasonForm(request.POST, auto_id=f"unblack{window.pk}_%s")
    if not form.is_valid():
        return _contract_form_failed(request, contract, remove=(window.pk, form))
    try:
        decisions.blackout_remove(
            actor=request.user, window_id=window.pk, reason=form.cleaned_data["reason"],
            on=timezone.localdate(),
        )  # fmt: skip
    except DomainError as error:
        return _refused(request, error, target)
    run = selectors.open_run_of(contract.pk)
    follow = ""
    if run is not None and run.state in DeprovisioningRun.OPEN_STATES:
        follow = (
            f" Run {run.pk} is {run.get_state_display().lower()} and executes on "
            f"{run.execute_on:%-d %b %Y}."
        )
    messages.success(
        request,
        f"The blackout window from {window.starts_on:%-d %b %Y} to {window.ends_on:%-d %b %Y} "
        f"is removed.{follow}",
    )
    return redirect(target)


# Termination with its dry run --------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def terminate(request):
    contract = _contract(request, request.GET.get("contract"))
    today = timezone.localdate()
    allowed = may_terminate(request.user, contract)
    if request.method == "POST" and not allowed:
        raise PermissionDenied(f"{contract.number} cannot be terminated by you now.")
    # Unbound, the page shows today's plan, so confirming it at once carries out that plan.
    initial = {"effective_date": today, "planned_for": today}
    form = TerminateForm(request.POST or None, initial=initial)
    effective, note = today, ""
    if request.method == "POST" and allowed and form.is_valid():
        data = form.cleaned_data
        effective = data["effective_date"]
        if request.POST.get("confirm") and data["planned_for"] == effective:
            try:
                contract, run = services.contract_terminate(
                    actor=request.user, contract_id=contract.pk, reason=data["reason"],
                    effective_date=effective, on=today,
                )  # fmt: skip
            except DomainError as error:
                add_to_form(form, error)
            else:
                run.refresh_from_db(fields=["state"])
                messages.success(
                    request,
                    f"{contract.number} is terminated. Deprovisioning run {run.pk} is "
                    f"{run.get_state_display().lower()}. Reason recorded: “{data['reason']}”",
                )
                return redirect("deprovisioning:run", pk=run.pk)
        elif request.POST.get("confirm"):
            note = "The effective date changed: here is its plan. Check it, then confirm."
    elif form.is_bound and form.is_valid():
        effective = form.cleaned_data["effective_date"]
    preview = (
        selectors.termination_preview(contract=contract, effective_date=effective, on=today)
        if allowed else None
    )  # fmt: skip
    if form.is_bound and form.is_valid():
        # The plan below is the one a confirmation would carry out.
        form = TerminateForm(
            {**request.POST.dict(), "planned_for": effective.isoformat()}, initial=initial
        )
        form.is_valid()
    context = {
        "contract": contract, "form": form, "preview": preview, "allowed": allowed,
        "note": note, "planned_for": effective, "today": today,
    }  # fmt: skip
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "licensing/deprovisioning/terminate.html", context, status=status)


# The run -----------------------------------------------------------------------------------


def _run(request, pk) -> DeprovisioningRun:
    _viewer(request.user)
    try:
        return selectors.run_page(pk=pk)
    except (DeprovisioningRun.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No deprovisioning run with id {pk}.") from None


def _run_context(request, run, **forms) -> dict:
    user = request.user
    holds = list(selectors.active_holds(run.contract_id).select_related("placed_by"))
    pending = reconciliation.rollback_pending(run)
    may_act = user.has_perm(RUN_PERM)
    execute = services.run_execute_refusal(user, run, held=bool(holds))
    request_refusal = reconciliation.rollback_request_refusal(user, run)
    approve = reconciliation.rollback_approve_refusal(user, run) if pending else "none pending"
    deliveries = list(run.deliveries.all())
    return {
        "run": run,
        "contract": run.contract,
        "steps": selectors.run_steps(run),
        "deliveries": deliveries,
        "confirmed": sum(d.state == "confirmed" for d in deliveries),
        "events": list(selectors.run_events(run)),
        "waiting_on": selectors.run_waiting_on(run),
        "never_activated": selectors.run_never_activated(run),
        "holds": holds,
        "may_act": may_act,
        "pending_rollback": pending,
        "execute_refusal": execute,
        "rollback_refusal": request_refusal,
        "approve_refusal": approve,
        "stops_on": run.execute_on + timedelta(days=run.grace_days),
        "execute_form": forms.get("execute") or ReasonForm(auto_id="execute_%s"),
        "rollback_form": forms.get("rollback") or ReasonForm(auto_id="rollback_%s"),
        "approve_form": forms.get("approve") or ReasonForm(auto_id="approve_%s"),
    }


@login_required
@require_safe
def run_detail(request, pk):
    run = _run(request, pk)
    return render(request, "licensing/deprovisioning/run.html", _run_context(request, run))


def _run_action(request, pk, *, name: str, act, done: str):
    run = _run(request, pk)
    form = ReasonForm(request.POST, auto_id=f"{name}_%s")
    if not form.is_valid():
        context = _run_context(request, run, **{name: form})
        return render(request, "licensing/deprovisioning/run.html", context, status=400)
    try:
        act(run, form.cleaned_data["reason"])
    except DomainError as error:
        return _refused(request, error, reverse("deprovisioning:run", args=[run.pk]))
    state = DeprovisioningRun.objects.get(pk=run.pk).get_state_display().lower()
    messages.success(request, done.format(run=run.pk, state=state))
    return redirect("deprovisioning:run", pk=run.pk)


@login_required
@require_POST
def run_execute(request, pk):
    def act(run, reason):
        services.run_execute(
            actor=request.user, run_id=run.pk, reason=reason, on=timezone.localdate()
        )

    return _run_action(request, pk, name="execute", act=act,
                       done="Run {run} was told to execute now; it is {state}.")  # fmt: skip


@login_required
@require_POST
def run_rollback(request, pk):
    def act(run, reason):
        reconciliation.rollback_request(actor=request.user, run_id=run.pk, reason=reason)

    return _run_action(
        request, pk, name="rollback", act=act,
        done="Rollback of run {run} requested: somebody other than you must approve it.",
    )  # fmt: skip


@login_required
@require_POST
def run_rollback_approve(request, pk):
    def act(run, reason):
        reconciliation.rollback_approve(
            actor=request.user, run_id=run.pk, reason=reason, on=timezone.localdate()
        )

    return _run_action(
        request, pk, name="approve", act=act,
        done="Rollback of run {run} approved: what it took is being restored everywhere; "
        "the run is {state}.",
    )  # fmt: skip


@login_required
@require_safe
def run_notice(request, pk):
    _viewer(request.user)
    run = _get(DeprovisioningRun, pk, "deprovisioning run")
    if not run.notice_pdf:
        raise Http404("This run has no notice yet.")
    response = HttpResponse(bytes(run.notice_pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="notice-{run.contract.number}.pdf"'
    return response


# The review queue, connected systems --------------------------------------------------------


def _review_context(request, *, failed=None) -> dict:
    """The queue; ``failed`` is ``(kind, pk, form)`` of a form sent back with its errors."""
    user = request.user
    deliveries = list(selectors.review_deliveries())
    held = selectors.held_contract_ids({d.run.contract_id for d in deliveries})

    def form_for(kind: str, pk: int) -> ReasonForm:
        if failed and failed[:2] == (kind, pk):
            return failed[2]
        return ReasonForm(auto_id=f"{kind}{pk}_%s")

    for delivery in deliveries:
        delivery.retry_refusal = decisions.delivery_retry_refusal(
            user, delivery, held=delivery.run.contract_id in held
        )
        delivery.close_refusal = decisions.delivery_close_refusal(user, delivery)
        delivery.retry_form = form_for("retry", delivery.pk)
        delivery.close_form = form_for("close", delivery.pk)
    findings = list(selectors.open_findings())
    for finding in findings:
        finding.resolve_refusal = decisions.finding_resolve_refusal(user, finding)
        finding.form = form_for("resolve", finding.pk)
    return {
        "deliveries": deliveries, "findings": findings, "may_act": user.has_perm(RUN_PERM),
        "failed_errors": bool(failed),
    }  # fmt: skip


@login_required
@require_safe
def review(request):
    _viewer(request.user)
    return render(request, "licensing/deprovisioning/review.html", _review_context(request))


def _review_action(request, pk, *, model, label: str, kind: str, act, done):
    """One decision from the review queue: parse the reason, call the service, back to the
    queue with a message (or the queue again, the form showing its error)."""
    _viewer(request.user)
    obj = _get(model, pk, label)
    target = reverse("deprovisioning:review")
    form = ReasonForm(request.POST, auto_id=f"{kind}{obj.pk}_%s")
    if not form.is_valid():
        context = _review_context(request, failed=(kind, obj.pk, form))
        return render(request, "licensing/deprovisioning/review.html", context, status=400)
    try:
        result = act(obj, form.cleaned_data["reason"])
    except DomainError as error:
        return _refused(request, error, target)
    messages.success(request, done(result))
    return redirect(target)


def _holder(delivery) -> str:
    return f"{delivery.external_id} at {delivery.system.name}"


@login_required
@require_POST
def delivery_retry(request, pk):
    def act(delivery, reason):
        return decisions.delivery_retry(actor=request.user, delivery_id=delivery.pk, reason=reason)

    def done(delivery):
        return (
            f"{delivery.get_action_display()} for {_holder(delivery)} sent again, with a fresh "
            f"retry ceiling: it is {delivery.get_state_display().lower()}."
        )

    return _review_action(request, pk, model=Delivery, label="delivery", kind="retry", act=act,
                          done=done)  # fmt: skip


@login_required
@require_POST
def delivery_close(request, pk):
    def act(delivery, reason):
        return decisions.delivery_close(actor=request.user, delivery_id=delivery.pk, reason=reason)

    def done(delivery):
        return (
            f"{delivery.get_action_display()} for {_holder(delivery)} is closed and left the "
            f"queue; nothing more is sent. Run {delivery.run_id} still counts it unconfirmed."
        )

    return _review_action(request, pk, model=Delivery, label="delivery", kind="close", act=act,
                          done=done)  # fmt: skip


@login_required
@require_POST
def finding_resolve(request, pk):
    def act(finding, reason):
        return decisions.finding_resolve(
            actor=request.user, finding_id=finding.pk, reason=reason, on=timezone.localdate()
        )

    def done(finding):
        return f"The finding about {finding.external_id} is resolved. Reason recorded."

    return _review_action(request, pk, model=ReconciliationFinding, label="finding",
                          kind="resolve", act=act, done=done)  # fmt: skip


@login_required
@require_safe
def system_list(request):
    _viewer(request.user)
    context = {"systems": selectors.system_list(), "may_act": request.user.has_perm(RUN_PERM)}
    return render(request, "licensing/deprovisioning/system_list.html", context)


@login_required
@require_safe
def system_detail(request, pk):
    _viewer(request.user)
    system = _get(ConnectedSystem, pk, "connected system")
    holders = Paginator(selectors.system_holders(system), HOLDERS_PER_PAGE)
    context = {
        "system": system,
        "page": holders.get_page(request.GET.get("page")),
        "reconciliations": list(selectors.system_reconciliations(system)),
        "may_reconcile": request.user.has_perm(RUN_PERM) and bool(system.protocol),
    }
    return render(request, "licensing/deprovisioning/system_detail.html", context)


@login_required
@require_POST
def system_reconcile(request, pk):
    _viewer(request.user)
    system = _get(ConnectedSystem, pk, "connected system")
    target = _safe_next(request, reverse("deprovisioning:system", args=[system.pk]))
    from .connectors import ConnectorError

    try:
        done = reconciliation.reconcile_system(
            actor=request.user, system_id=system.pk, on=timezone.localdate()
        )
    except DomainError as error:
        return _refused(request, error, target)
    except ConnectorError as error:
        messages.error(request, f"{system.name} could not be reached: {error}")
        return redirect(target)
    open_left = done.drift - done.repaired
    messages.success(
        request,
        f"{system.name}: {done.checked} holder{'s' if done.checked != 1 else ''} checked, "
        f"{done.drift} disagreeing, {done.repaired} repaired"
        + (f", {open_left} waiting in the review queue." if open_left else "."),
    )
    return redirect(target)


# Revocation policy versions -----------------------------------------------------------------


def _policy_context(request, form=None) -> dict:
    today = timezone.localdate()
    policies = list(selectors.revocation_policies())
    in_force = services.revocation_policy(today)
    may_draft = request.user.has_perm("licensing.add_policyversion")
    if may_draft and form is None:
        form = PolicyDraftForm(initial={**PolicyDraftForm.initial_from(in_force),
                                        "effective_from": today})  # fmt: skip
    return {"policies": policies, "in_force": in_force, "may_draft": may_draft, "form": form}


@login_required
@require_safe
def policy_list(request):
    _viewer(request.user)
    return render(request, "licensing/deprovisioning/policy_list.html", _policy_context(request))


@login_required
@require_POST
def policy_draft(request):
    _viewer(request.user)
    form = PolicyDraftForm(request.POST)
    if not form.is_valid():
        context = _policy_context(request, form)
        return render(request, "licensing/deprovisioning/policy_list.html", context, status=400)
    data = form.cleaned_data
    base = services.revocation_policy(timezone.localdate())
    try:
        policy = services.policy_draft(
            actor=request.user, kind=PolicyVersion.Kind.REVOCATION, rules=form.rules(base.rules),
            summary=data["summary"], effective_from=data["effective_from"], reason=data["reason"],
        )  # fmt: skip
    except DomainError as error:
        add_to_form(form, error)
        context = _policy_context(request, form)
        return render(request, "licensing/deprovisioning/policy_list.html", context, status=400)
    messages.success(
        request, f"Revocation policy v{policy.number} is saved as a draft: somebody other than "
        "you reviews and publishes it.",
    )  # fmt: skip
    return redirect("deprovisioning:policy", pk=policy.pk)


RULE_LABELS = {
    "notice_lead_days": "Notice lead days",
    "max_grace_days": "Longest grace (days)",
    "max_attempts": "Attempts per delivery before escalation",
    "nonpayment_days_after_due": "Nonpayment trigger (days after due)",
    "delete_at_identity_providers": "Delete users at identity providers",
    "suppress_renewal": "Stop renewal at once",
    "revoke_order": "Revocation order",
    "triggers": "Triggers",
}


def _words(key: str, value):
    """A rule's value as people read it: kinds and triggers by their names."""
    from ..models import Entitlement

    names = {"revoke_order": dict(Entitlement.Kind.choices),
             "triggers": dict(DeprovisioningRun.Trigger.choices)}.get(key)  # fmt: skip
    if names and isinstance(value, list):
        return ", ".join(names.get(v, v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "—" if value is None else value


def _rule_rows(policy, compared) -> list[tuple[str, object, object, bool]]:
    keys = list(RULE_LABELS) + [k for k in policy.rules if k not in RULE_LABELS]
    rows = []
    for key in keys:
        if key not in policy.rules and (compared is None or key not in compared.rules):
            continue
        mine = policy.rules.get(key)
        theirs = compared.rules.get(key) if compared is not None else None
        rows.append((RULE_LABELS.get(key, key), _words(key, mine), _words(key, theirs),
                     compared is not None and mine != theirs))  # fmt: skip
    return rows


@login_required
@require_safe
def policy_detail(request, pk):
    _viewer(request.user)
    policy = _get(PolicyVersion, pk, "revocation policy", selectors.revocation_policies())
    in_force = services.revocation_policy(timezone.localdate())
    compared = in_force if in_force.pk != policy.pk else None
    context = {
        "policy": policy,
        "in_force": in_force,
        "compared": compared,
        "rows": _rule_rows(policy, compared),
        "refusal": services.policy_publish_refusal(request.user, policy),
        "form": ReasonForm(),
    }
    return render(request, "licensing/deprovisioning/policy_detail.html", context)


@login_required
@require_POST
def policy_publish(request, pk):
    _viewer(request.user)
    policy = _get(PolicyVersion, pk, "revocation policy", selectors.revocation_policies())
    target = reverse("deprovisioning:policy", args=[policy.pk])
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason: every change records why it was made.")
        return redirect(target)
    try:
        policy = services.policy_publish(
            actor=request.user, policy_id=policy.pk, reason=form.cleaned_data["reason"],
            on=timezone.localdate(),
        )  # fmt: skip
    except DomainError as error:
        return _refused(request, error, target)
    messages.success(
        request, f"Revocation policy v{policy.number} is published and takes effect on "
        f"{policy.effective_from:%-d %B %Y}; runs planned from then on record it.",
    )  # fmt: skip
    return redirect(target)


# The dashboard ------------------------------------------------------------------------------


def _fmt(duration) -> str:
    if duration is None:
        return "—"
    seconds = int(duration.total_seconds())
    if seconds < 1:  # the demo's in-process systems confirm within the request
        return "under 1 s"
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min"
    return f"{hours // 24} days {hours % 24} h"


DASHBOARD_DAYS = 30


@login_required
@require_safe
def dashboard(request):
    _viewer(request.user)
    today = timezone.localdate()
    times = selectors.revoke_times()
    durations = [t.duration for t in times]
    by_state = selectors.runs_by_state()
    drift = selectors.drift_by_day(since=today - timedelta(DASHBOARD_DAYS - 1), until=today)
    recent = times[-30:]
    context = {
        "median": _fmt(selectors.median(durations)),
        "p95": _fmt(selectors.percentile(durations, 95)),
        "measured": len(durations),
        "by_state": by_state,
        "drift_totals": selectors.drift_totals(),
        "escalations": selectors.escalation_counts(),
        "open_runs": list(selectors.open_runs()),
        "recent_runs": list(selectors.recent_runs()[:RECENT_RUNS]),
        "days": DASHBOARD_DAYS,
        "ttr_chart": _chart(
            "bar",
            [t.contract for t in recent],
            [
                (
                    "Seconds from due to the last confirmation",
                    [int(t.duration.total_seconds()) for t in recent],
                    "#2f6fb0",
                )
            ],
            y_title="seconds",
        ),  # fmt: skip
        "state_chart": _chart(
            "bar",
            [label for _s, label, _n in by_state],
            [("Runs", [n for _s, _l, n in by_state], "#6b5fb5")],
            y_title="runs",
        ),  # fmt: skip
        "drift_chart": _chart(
            "bar",
            [f"{d:%-d %b}" for d, _f, _r in drift],
            [
                ("Drift found", [f for _d, f, _r in drift], "#c0392b"),
                ("Repaired", [r for _d, _f, r in drift], "#27864a"),
            ],
            y_title="holders",
        ),  # fmt: skip
    }
    return render(request, "licensing/deprovisioning/dashboard.html", context)


def _chart(kind: str, labels: list, series: list, *, y_title: str) -> dict:
    """A Chart.js config for static/js/charts.js: data only, whole numbers only."""
    return {
        "type": kind,
        "data": {
            "labels": labels,
            "datasets": [
                {
                    "label": label,
                    "data": values,
                    "backgroundColor": colour,
                    "borderColor": colour,
                }  # fmt: skip
                for label, values, colour in series
            ],
        },
        "options": {
            "scales": {
                "y": {
                    "beginAtZero": True,
                    "title": {"display": True, "text": y_title},
                    "ticks": {"precision": 0},
                }
            },  # fmt: skip
            "plugins": {"legend": {"position": "bottom"}},
        },
    }
