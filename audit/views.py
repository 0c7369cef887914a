from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.shortcuts import render

from .selectors import audit_events, audit_verify_chain


@login_required
@permission_required("audit.view_auditevent", raise_exception=True)
def event_list(request):
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
