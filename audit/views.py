from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from .selectors import audit_events, audit_verify_chain


@login_required
def event_list(request):
    if not request.user.has_perm("audit.view_auditevent"):
        raise PermissionDenied("The audit log is for auditors and administrators.")
    events = audit_events(object_type=request.GET.get("object_type") or None).order_by("-seq")
    action = request.GET.get("action", "").strip()
    actor = request.GET.get("actor", "").strip()
    if action:
        events = events.filter(action__icontains=action)
    if actor:
        events = events.filter(actor_username__icontains=actor)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "report": audit_verify_chain() if request.GET.get("verify") else None,
        "filters": {"action": action, "actor": actor},
    }
    return render(request, "audit/event_list.html", context)
