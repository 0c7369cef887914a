from django.db import IntegrityError
from django.http import JsonResponse
from django.views.defaults import page_not_found
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from licensing.authentication import TokenExpired
from licensing.errors import DomainError

DUPLICATE_MESSAGE = "This conflicts with a record that already exists (perhaps sent twice at once)."


def api_exception_handler(exc, context):
    """Domain errors map to HTTP once, here: 409 for a refused transition or a lost race.

    An error about one input answers under that input's name, in a serializer's shape
    (`{"effective_date": ["..."]}`), so serializers need not repeat the service's rule.

    A unique constraint that a simultaneous identical create tripped is a 409 as well: the
    service's transaction rolled back, so nothing is half-written.
    """
    if isinstance(exc, DomainError):
        # A domain error may carry a body of its own (a refused file lists its rows' errors).
        body = getattr(exc, "body", None)
        if body:
            return Response(body, status=exc.status_code)
        if exc.field:
            return Response({exc.field: [str(exc)]}, status=exc.status_code)
        return Response({"detail": str(exc)}, status=exc.status_code)
    if isinstance(exc, IntegrityError):
        set_rollback()
        return Response({"detail": DUPLICATE_MESSAGE}, status=status.HTTP_409_CONFLICT)
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, TokenExpired):
        response["WWW-Authenticate"] = "Token"
    return response


def not_found(request, exception=None):
    """A path no route matches (`/api/v1/contracts/abc/holds/`): the API answers JSON, as for
    an unknown id; pages keep Django's own page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not found: no such resource or id."}, status=404)
    return page_not_found(request, exception)
