from rest_framework.response import Response
from rest_framework.views import exception_handler

from licensing.errors import DomainError


def api_exception_handler(exc, context):
    """Domain errors map to HTTP once, here: 409 for a refused transition or a lost race."""
    if isinstance(exc, DomainError):
        return Response({"detail": str(exc)}, status=exc.status_code)
    return exception_handler(exc, context)
