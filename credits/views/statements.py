"""The customer statement and invoices: a finance page for any customer, portal pages for the
customer's own. Both render the one statement read (credits/statements.py)."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from licensing import access
from licensing.models import Customer, Invoice
from licensing.roles import is_staff_role

from ..statements import customer_invoices, customer_statement


def _staff_only(user) -> None:
    if not is_staff_role(user):
        raise PermissionDenied("The finance pages are for LicenseDesk staff.")


def _customer_only(user) -> Customer:
    customer = access.customer_of(user)
    if customer is None:
        raise PermissionDenied("The portal is for customer users.")
    return customer


@login_required
@require_safe
def finance_statement(request):
    """Any customer's statement; without `?customer=` a list to choose from."""
    _staff_only(request.user)
    pk = request.GET.get("customer")
    if not pk:
        customers = access.customers_for_user(request.user).order_by("name")
        return render(request, "credits/statement_choose.html", {"customers": customers})
    customer = access._get(access.customers_for_user(request.user), pk, "customer")
    statement = customer_statement(customer=customer, on=timezone.localdate())
    return render(request, "credits/statement.html", {"statement": statement, "portal": False})


@login_required
@require_safe
def portal_statement(request):
    customer = _customer_only(request.user)
    statement = customer_statement(customer=customer, on=timezone.localdate())
    return render(
        request, "credits_portal/statement.html", {"statement": statement, "portal": True}
    )


@login_required
@require_safe
def portal_invoices(request):
    customer = _customer_only(request.user)
    return render(
        request,
        "credits_portal/invoices.html",
        {"invoices": customer_invoices(customer=customer, on=timezone.localdate()), "portal": True},
    )


def _invoice_for_user(user, pk) -> Invoice:
    """Staff read any invoice; a customer's user their own; another customer's is a 404."""
    base = Invoice.objects.filter(contract__in=access.contracts_for_user(user))
    return access._get(base, pk, "invoice")


@login_required
@require_safe
def invoice_pdf(request, pk: int):
    invoice = _invoice_for_user(request.user, pk)
    if not (is_staff_role(request.user) or access.customer_of(request.user)):
        raise Http404(f"No invoice with id {pk}.")
    # Imported here: WeasyPrint is only loaded on download.
    from ..pdf import render_invoice

    response = HttpResponse(render_invoice(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{invoice.number}.pdf"'
    return response
