from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from .navigation import home_url_for


@login_required
def home(request):
    return redirect(home_url_for(request.user))


@login_required
def no_role(request):
    return render(request, "shell/no_role.html", status=403)
