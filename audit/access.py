from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import ExportJob


def require_audit_reader(user) -> None:
    if not user.has_perm("audit.view_auditevent"):
        raise PermissionDenied("The audit trail is for auditors and administrators.")


def export_for_user(*, user, pk: int) -> ExportJob:
    """An export its requester may see; administrators see every one. Anyone else: 404."""
    require_audit_reader(user)
    jobs = ExportJob.objects.select_related("requested_by")
    if not user.is_superuser:
        jobs = jobs.filter(requested_by=user)
    job = jobs.filter(pk=pk).first()
    if job is None:
        raise Http404("No such export.")
    return job


def exports_for_user(*, user):
    require_audit_reader(user)
    jobs = ExportJob.objects.select_related("requested_by")
    return jobs if user.is_superuser else jobs.filter(requested_by=user)


def require_retention_reader(user) -> None:
    """Retention policies: managers and administrators write them, auditors read them."""
    if not user.has_perm("audit.view_retentionpolicyversion"):
        raise PermissionDenied("Retention policies are for managers, auditors and administrators.")
