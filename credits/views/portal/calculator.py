"""The interactive calculator page over the public calculator API."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from licensing.money import currency_choices
from licensing.pricing.arithmetic import BASES

from ... import selectors
from ...engine import INTENTS
from ...serializers import CALCULATOR_EXAMPLE
from ._common import (
    _customer_only,
)

# The calculator: a page over the public API, which does all the arithmetic. It opens on
# the same example the API documents.


@login_required
@ensure_csrf_cookie
@require_safe
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
