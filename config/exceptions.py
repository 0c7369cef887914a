from rest_framework.response import Response
from rest_framework.views import exception_handler

from licensing.errors import DomainError


def api_exception_handler(exc, context):
    """Domain errors map to HTTP once, here: 409 for a refused transition or a lost race.

    An error about one input answers under that input's name, in a serializer's shape
    (`{"effective_date": ["..."]}`), so serializers need not repeat the service's rule.
    """
    if isinstance(exc, DomainError):
        # A domain error may carry a body of its own (a refused file lists its rows' errors).
        body = getattr(exc, "body", None)
        if body:
            return Response(body, status=exc.status_code)
        if exc.field:
            return Response({exc.field: [str(exc)]}, status=exc.status_code)
        return Response({"detail": str(exc)}, status=exc.status_code)
    return exception_handler(exc, context)
