from django.contrib import messages
from django.http import HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme

from licensing.errors import domain_error_from


class DomainErrorMiddleware:
    """Pages show a refused action as a message on the page the user came from: a domain error,
    or what the database or a model's validation refused (`domain_error_from`), such as a unique
    key taken by a simultaneous identical request, never a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        error = domain_error_from(exception)
        if error is None or request.path.startswith("/api/"):
            return None
        messages.error(request, str(error))
        target = request.META.get("HTTP_REFERER") or "/"
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
            target = "/"
        response = HttpResponseRedirect(target)
        if getattr(request, "htmx", False):
            response["HX-Redirect"] = target
        return response
