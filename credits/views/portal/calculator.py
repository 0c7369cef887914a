"""The interactive calculator page over the public calculator API."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie

from licensing.money import currency_choices
from licensing.proration import BASES, INTENTS

from ... import selectors
from ._common import (
    _customer_only,
)

# The calculator: a page over the public API, which does all the arithmetic.

CALCULATOR_EXAMPLE = {
    "currency": "USD",
    "intent": "downgrade",
    "period_start": "2026-03-01",
    "period_end": "2026-04-01",
    "effective_date": "2026-03-16",
    "lines": [
        {"id": "seats", "basis": "seat", "amount_paid": "1500.00", "quantity_before": 50,
         "quantity_after": 20},
        {"id": "api", "basis": "usage", "amount_paid": "1000.00", "included_units": 1000000,
         "units_used": 400000},
        {"id": "suite", "basis": "bundle", "amount_paid": "900.00", "components": [
            {"id": "editor", "standalone_price": "20.00", "quantity_before": 10,
             "quantity_after": 5},
            {"id": "viewer", "standalone_price": "5.00", "quantity_before": 40,
             "quantity_after": 40},
        ]},
    ],
}  # fmt: skip


@login_required
@ensure_csrf_cookie
def calculator(request):
    _customer_only(request.user)
    context = {
        "example": CALCULATOR_EXAMPLE,
        "currencies": [code for code, _ in currency_choices()],
        "intents": INTENTS,
        "bases": BASES,
        "api_url": reverse("credit-calculator"),
        "policy": selectors.credit_policy_in_force(on=timezone.localdate()),
    }
    return render(request, "credits_portal/calculator.html", context)
