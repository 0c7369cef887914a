from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from . import bundle
from .access import (
    export_for_user,
    exports_for_user,
    require_audit_reader,
    require_retention_reader,
)
from .changes import event_changes, event_data, history_entry, history_event, record_name
from .forms import ExportForm, RetentionDraftForm, RetentionPublishForm, TimelineFilterForm
from .governance import PERIODS, governance_csv, governance_report, period_days
from .models import AuditEvent, ExportJob
from .retention import (
    KIND_NAMES,
    RetentionError,
    retention_policy_draft,
    retention_policy_in_force,
    retention_policy_publish,
    retention_policy_publish_refusal,
)
from .retention_history import history_labels
from .selectors import chain_status, retention_policies
from .services import chain_verification_request, export_request
from .timeline import (
    action_label,
    describe_filter,
    object_label,
    policy_label,
    timeline_count_at_most,
    timeline_page,
)


def _filter_query(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@login_required
@require_safe
def event_list(request):
    """The timeline: every event and history row, newest first, filtered."""
    require_audit_reader(request.user)
    form = TimelineFilterForm(request.GET or None)
    invalid = form.is_bound and not form.is_valid()
    try:
        number = int(request.GET.get("page", 1))
    except ValueError:
        number = 1
    page = None if invalid else timeline_page(form.timeline_filter(), number=number)
    context = {
        "form": form,
        "page": page,
        "query": _filter_query(request),
        "filtered": form.is_bound and any(v for k, v in request.GET.items() if k != "page"),
        "export_rows": settings.AUDIT_EXPORT_STREAM_MAX_ROWS,
        "export_formats": ExportJob.Format.choices,
    }
    return render(request, "audit/timeline.html", context)


def _actor(user) -> str:
    if user is None:
        return "the system"
    return user.get_full_name() or user.get_username()


@login_required
@require_safe
def event_entry(request, seq: int):
    require_audit_reader(request.user)
    event = AuditEvent.objects.select_related("actor").filter(seq=seq).first()
    if event is None:
        raise Http404("No such event.")
    context = {
        "event": event,
        "actor": _actor(event.actor) if event.actor_id else event.actor_username or "the system",
        "action": action_label(event.action),
        "policy": policy_label(event.policy_version),
        "object": object_label(event.object_type),
        "name": record_name(event.object_type, event.object_id),
        "data": event_data(event),
        "changes": event_changes(event, reader=request.user),
        "back": request.GET.get("back", ""),
    }
    return render(request, "audit/event_entry.html", context)


@login_required
@require_safe
def history_row(request, label: str, history_id: int):
    require_audit_reader(request.user)
    change = history_entry(label, history_id, reader=request.user)
    if change is None:
        raise Http404("No such history row.")
    row, event = change.row, history_event(change)
    context = {
        "change": change,
        "row": row,
        "actor": _actor(row.history_user),
        "object": object_label(label),
        "name": getattr(row, change.source.name_field) if change.source.name_field else "",
        "event": event,
        "event_action": action_label(event.action) if event else "",
        "back": request.GET.get("back", ""),
    }
    return render(request, "audit/history_entry.html", context)


@login_required
@require_safe
def chain(request):
    """The chain's state as the last verification stored it; no page request walks the chain."""
    require_audit_reader(request.user)
    return render(request, "audit/chain.html", chain_status())


@login_required
@require_POST
def verify(request):
    require_audit_reader(request.user)
    verification = chain_verification_request(actor=request.user)
    if verification.finished_at is None:
        messages.info(
            request,
            "Verification of the audit chain requested; the result shows here when it is done.",
        )
    else:
        messages.success(request, "The audit chain was verified; the result is below.")
    return redirect("audit:chain")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def exports(request):
    """GET: your exports. POST: export the filtered timeline (streamed now when it is small,
    else a task whose progress its page shows)."""
    require_audit_reader(request.user)
    if request.method != "POST":
        jobs = exports_for_user(user=request.user)[:50]
        return render(request, "audit/exports.html", {"jobs": jobs})
    filters, choice = TimelineFilterForm(request.POST), ExportForm(request.POST)
    if not (filters.is_valid() and choice.is_valid()):
        context = {"filters": filters, "choice": choice}
        return render(request, "audit/export_refused.html", context, status=400)
    flt, fmt = filters.timeline_filter(), choice.cleaned_data["format"]
    limit = settings.AUDIT_EXPORT_STREAM_MAX_ROWS
    stream = fmt != ExportJob.Format.BUNDLE and timeline_count_at_most(flt, limit + 1) <= limit
    job = export_request(actor=request.user, fmt=fmt, filter=flt.as_dict(), stream=stream)
    if not stream:
        return redirect("audit:export", pk=job.pk)
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/x-ndjson"
    response = StreamingHttpResponse(bundle.timeline_lines(flt, fmt), content_type=content_type)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-timeline-{stamp}.{fmt}"'
    return response


def _file(job: ExportJob) -> Path:
    return Path(settings.MEDIA_ROOT) / job.file.name


def _is_bundle(job: ExportJob) -> bool:
    done = job.state == ExportJob.State.DONE and job.file
    return bool(done and job.format == ExportJob.Format.BUNDLE and _file(job).is_file())


@login_required
@require_safe
def export(request, pk: int):
    job = export_for_user(user=request.user, pk=pk)
    template = "audit/partials/export_status.html" if request.htmx else "audit/export.html"
    context = {
        "job": job,
        "counts": bundle.bundle_manifest(_file(job))["counts"] if _is_bundle(job) else None,
        "status_url": reverse("audit:export", args=[pk]),
        "filter": describe_filter(job.filter),
    }
    return render(request, template, context)


@login_required
@require_safe
def export_download(request, pk: int):
    job = export_for_user(user=request.user, pk=pk)
    if job.state != ExportJob.State.DONE or not job.file:
        raise Http404("This export has no file (yet).")
    path = _file(job)
    if not path.is_file():
        raise Http404("The export's file is gone.")
    return FileResponse(open(path, "rb"), as_attachment=True, filename=path.name)


def _require_governance(user) -> None:
    if not user.has_perm("audit.view_governance"):
        raise PermissionDenied("The governance dashboard is for management and auditors.")


@login_required
@require_safe
def governance(request):
    _require_governance(request.user)
    days = period_days(request.GET.get("days"))
    today = timezone.localdate()
    context = {
        "panels": governance_report(on=today, days=days),
        "days": days,
        "period_label": PERIODS[days],
        "periods": PERIODS,
        "today": today,
    }
    return render(request, "audit/governance.html", context)


@login_required
@require_safe
def governance_export(request):
    _require_governance(request.user)
    days = period_days(request.GET.get("days"))
    today = timezone.localdate()
    rows = governance_csv(governance_report(on=today, days=days))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    name = f"governance-{today.isoformat()}-{days}d.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# Retention policy versions ------------------------------------------------------------------


def _period(days: int | None) -> str:
    if days is None:
        return "Kept for ever"
    years = days / 365.25
    about = (
        f" (about {years:.0f} years)" if years >= 1.9 and abs(years - round(years)) < 0.05 else ""
    )
    return f"{days:,} days{about}"


def retention_rule_rows(rules: dict, compared: dict | None) -> list[tuple[str, str, str, bool]]:
    """A policy's rules as people read them, beside another version's: (rule, mine, theirs,
    changed). Kinds and types by their names, never their codes."""
    names = {"event": object_label, "history": lambda code: history_labels().get(code, code)}
    rows = []

    def row(label, get):
        mine = _period(get(rules))
        theirs = _period(get(compared)) if compared is not None else ""
        rows.append((label, mine, theirs, compared is not None and mine != theirs))

    def days(kind, key=None, code=None):
        def get(r):
            rule = r.get(kind)
            if rule is None:
                return None
            if key is None:
                return rule["keep_days"]
            return rule.get(key, {}).get(code, rule["keep_days"])

        return get

    for kind, key, prefix, verb in (
        ("audit.event", "by_object_type", "event", "redacted"),
        ("audit.verification", None, None, "deleted"),
        ("history", "by_model", "history", "deleted"),
    ):
        row(f"{KIND_NAMES[kind]}: {verb} after", days(kind))
        if key is None:
            continue
        codes = {*((rules.get(kind) or {}).get(key, {})),
                 *(((compared or {}).get(kind) or {}).get(key, {}))}  # fmt: skip
        for code in sorted(codes, key=lambda c: str(names[prefix](c)).lower()):
            name = str(names[prefix](code))
            label = f"{'Events about' if prefix == 'event' else 'History of'} {name.lower()}"
            row(f"{label}: {verb} after", days(kind, key, code))
    return rows


def _retention_context(request, form=None) -> dict:
    today = timezone.localdate()
    in_force = retention_policy_in_force(on=today)
    may_draft = request.user.has_perm("audit.add_retentionpolicyversion")
    if may_draft and form is None:
        initial = {**RetentionDraftForm.initial_from(in_force.rules), "effective_from": today}
        form = RetentionDraftForm(initial=initial, base_rules=in_force.rules)
    return {"policies": list(retention_policies()), "in_force": in_force, "may_draft": may_draft,
            "form": form, "tab": "retention"}  # fmt: skip


@login_required
@require_safe
def retention(request):
    require_retention_reader(request.user)
    return render(request, "audit/retention_list.html", _retention_context(request))


@login_required
@require_POST
def retention_draft(request):
    require_retention_reader(request.user)
    if not request.user.has_perm("audit.add_retentionpolicyversion"):
        raise PermissionDenied("Your role may not draft retention policies.")
    today = timezone.localdate()
    form = RetentionDraftForm(request.POST, base_rules=retention_policy_in_force(on=today).rules)
    if form.is_valid():
        data = form.cleaned_data
        try:
            policy = retention_policy_draft(
                actor=request.user, rules=form.rules(), summary=data["summary"],
                effective_from=data["effective_from"], reason=data["reason"], on=today,
            )  # fmt: skip
        except RetentionError as error:
            form.add_error(error.field if error.field in form.fields else None, str(error))
        else:
            messages.success(
                request, f"Retention policy v{policy.number} is saved as a draft: somebody "
                "other than you reviews and publishes it.",
            )  # fmt: skip
            return redirect("audit:retention-policy", pk=policy.pk)
    context = _retention_context(request, form)
    return render(request, "audit/retention_list.html", context, status=400)


def _policy_for(pk: int):
    policy = retention_policies().filter(pk=pk).first()
    if policy is None:
        raise Http404("No such retention policy.")
    return policy


@login_required
@require_safe
def retention_policy(request, pk: int):
    require_retention_reader(request.user)
    policy = _policy_for(pk)
    in_force = retention_policy_in_force(on=timezone.localdate())
    compared = in_force if in_force.pk != policy.pk else None
    context = {
        "policy": policy,
        "in_force": in_force,
        "compared": compared,
        "rows": retention_rule_rows(policy.rules, compared.rules if compared else None),
        "refusal": retention_policy_publish_refusal(request.user, policy),
        "form": RetentionPublishForm(),
        "tab": "retention",
    }
    return render(request, "audit/retention_policy.html", context)


@login_required
@require_POST
def retention_publish(request, pk: int):
    require_retention_reader(request.user)
    if not request.user.has_perm("audit.change_retentionpolicyversion"):
        raise PermissionDenied("Your role may not publish retention policies.")
    policy = _policy_for(pk)
    target = reverse("audit:retention-policy", args=[policy.pk])
    form = RetentionPublishForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason: every change records why it was made.")
        return redirect(target)
    try:
        policy = retention_policy_publish(
            actor=request.user, policy_id=policy.pk, reason=form.cleaned_data["reason"],
            on=timezone.localdate(),
        )  # fmt: skip
    except RetentionError as error:
        messages.error(request, str(error))
        return redirect(target)
    messages.success(
        request, f"Retention policy v{policy.number} is published and takes effect on "
        f"{policy.effective_from:%-d %B %Y}; the nightly purge follows it from then on.",
    )  # fmt: skip
    return redirect(target)
