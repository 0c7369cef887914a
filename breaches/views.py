"""Pages for account managers: sending a usage report as a CSV file."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from licensing.errors import DomainError

from . import services
from .errors import UsageRejected
from .forms import UsageUploadForm


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def usage_upload(request):
    refusal = services.usage_report_refusal(request.user)
    if refusal:
        raise PermissionDenied(refusal)
    form = UsageUploadForm(request.POST or None, request.FILES or None)
    errors, status = [], 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            report = services.usage_report_create(
                actor=request.user, on=timezone.localdate(), file=upload,
                filename=upload.name or "", reason=form.cleaned_data["reason"],
            )  # fmt: skip
        except UsageRejected as rejected:
            errors, status = rejected.errors, 400
        except DomainError as error:
            form.add_error(None, str(error))
            status = 400
        else:
            messages.success(
                request,
                f"Usage report {report.pk} stored: {report.rows} rows read, "
                f"{report.replaced} earlier figures replaced.",
            )
            return redirect("breaches:usage-upload")
    elif request.method == "POST":
        status = 400
    return render(
        request, "breaches/usage_upload.html", {"form": form, "errors": errors}, status=status
    )
