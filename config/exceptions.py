from django.http import JsonResponse
from django.views.defaults import page_not_found
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from licensing.authentication import TokenExpired
from licensing.errors import DUPLICATE_MESSAGE, domain_error_from

__all__ = ["DUPLICATE_MESSAGE", "api_exception_handler", "not_found"]


def api_exception_handler(exc, context):
    """Domain errors map to HTTP once, here: 409 for a refused transition or a lost race.

    An error about one input answers under that input's name, in a serializer's shape
    (`{"effective_date": ["..."]}`), so serializers need not repeat the service's rule.

    A unique constraint that a simultaneous identical create tripped is a 409 as well, and a
    model's own validation a 400 by field (`licensing.errors.domain_error_from`): the service's
    transaction rolled back, so nothing is half-written.
    """
    error = domain_error_from(exc)
    if error is not None:
        if error is not exc:
            # A database error leaves the request's transaction unusable: roll it back.
            set_rollback()
        # A domain error may carry a body of its own (a refused file lists its rows' errors).
        if error.body:
            return Response(error.body, status=error.status_code)
        if error.field:
            return Response({error.field: [str(error)]}, status=error.status_code)
        return Response({"detail": str(error)}, status=error.status_code)
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
