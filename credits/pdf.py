"""The credit note: one issued credit as an A4 PDF, rendered by WeasyPrint from a template.

The template carries its own CSS and loads nothing remote, so the document renders the same
anywhere and never waits on the network.
"""

from decimal import Decimal

from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from weasyprint import HTML

from licensing.errors import TransitionNotAllowed

from .models import Credit
from .selectors import credit_calculation

SELLER = "LicenseDesk"


def policy_page_path() -> str:
    """Where customers read the policy: its own portal page once it exists, else the portal."""
    for name in ("credits_portal:policy", "portal:home"):
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return "/portal/"


def render_credit_note(credit: Credit, *, portal_url: str = "") -> bytes:
    """The credit note of an issued credit. `portal_url` is the policy page as an absolute URL."""
    if credit.status != Credit.Status.ISSUED or not credit.number:
        raise TransitionNotAllowed(f"{credit} is not issued, so it has no credit note yet.")
    change = credit.change
    context = {
        "seller": SELLER,
        "credit": credit,
        "change": change,
        "customer": credit.customer,
        "contract": credit.contract,
        "policy": credit.policy,
        "lines": credit_calculation(credit=credit),
        "notes": (change.quote or {}).get("notes", []),
        "schedule": [Decimal(amount) for amount in credit.schedule],
        "issued_on": timezone.localdate(credit.issued_at),
        "portal_url": portal_url or policy_page_path(),
    }
    html = render_to_string("credits/credit_note.html", context)
    return HTML(string=html, url_fetcher=_refuse).write_pdf()


def _refuse(url: str, *args, **kwargs):
    # The template is self-contained; any fetch would be a mistake (or an injected URL).
    raise ValueError(f"The credit note loads no resources ({url}).")


def render_invoice(invoice) -> bytes:
    """An invoice as billing recorded it, with the discounts and deferred value credits took
    off it, as an A4 PDF (the credit note's approach: a self-contained template)."""
    from decimal import Decimal

    from licensing.money import round_money

    lines = list(invoice.lines.select_related("contract_line__plan__product"))
    adjustments = list(invoice.credit_adjustments.select_related("credit").order_by("pk"))
    subtotal = sum((line.amount for line in lines), Decimal(0))
    taken = sum((a.amount for a in adjustments), Decimal(0))
    context = {
        "seller": SELLER,
        "invoice": invoice,
        "contract": invoice.contract,
        "customer": invoice.contract.customer,
        "lines": lines,
        "adjustments": adjustments,
        "subtotal": round_money(subtotal, invoice.currency),
        "total": round_money(subtotal - taken, invoice.currency),
    }
    html = render_to_string("credits/invoice.html", context)
    return HTML(string=html, url_fetcher=_refuse).write_pdf()
