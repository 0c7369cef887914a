from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors
from .serializers import CalculatorInput, CalculatorOutput
from .services import calculator_quote

EXAMPLE = {
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
    ],
}  # fmt: skip


class CalculatorApi(APIView):
    """Price a downgrade, pause or termination under the credit policy in force today."""

    @extend_schema(
        request=CalculatorInput,
        responses={200: CalculatorOutput},
        examples=[OpenApiExample("Downgrade", value=EXAMPLE, request_only=True)],
    )
    def post(self, request):
        body = CalculatorInput(data=request.data)
        body.is_valid(raise_exception=True)
        policy = selectors.credit_policy_in_force(on=timezone.localdate())
        return Response(calculator_quote(body.validated_data, policy=policy))
