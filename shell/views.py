from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from .navigation import home_url_for


@login_required
@require_safe
def home(request):
    return redirect(home_url_for(request.user))


@login_required
@require_safe
def no_role(request):
    return render(request, "shell/no_role.html", status=403)
