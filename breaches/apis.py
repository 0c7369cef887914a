"""The breaches API: usage reports in, the stateless true-up calculator, detection on demand.

Who may send a report is the service's business: a refusal is a DomainError that
config/exceptions.py maps to 403, and a refused file to 400 with its errors.
"""

from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from . import services
from .case_serializers import DetectOutput
from .serializers import (
    TRUE_UP_EXAMPLE,
    TrueUpInput,
    TrueUpOutput,
    UsageErrorsOutput,
    UsageFileInput,
    UsageReportOutput,
    UsageRowsInput,
)


class UsageReportCreateApi(APIView):
    """Send daily usage figures: a CSV file (field `file`) or JSON `{"rows": [...]}`.

    The whole input is checked first; any bad row refuses it all (400, every problem with its
    line and field) and nothing is stored. A figure for an entitlement, metric and day already
    reported replaces the earlier one; `replaced` counts those.
    """

    # The project's bounded JSON parser, forms and uploads (CSV files).
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES

    @extend_schema(
        operation_id="usage_reports_create",
        request={"multipart/form-data": UsageFileInput, "application/json": UsageRowsInput},
        responses={
            201: UsageReportOutput,
            400: OpenApiResponse(UsageErrorsOutput, description="Nothing was stored"),
        },
    )
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is not None:
            report = services.usage_report_create(
                actor=request.user, on=timezone.localdate(), file=upload,
                filename=upload.name or "",
            )  # fmt: skip
        else:
            # Neither a file nor rows: the service says what to send.
            rows = request.data.get("rows") if isinstance(request.data, dict) else None
            report = services.usage_report_create(
                actor=request.user, on=timezone.localdate(), rows=rows
            )
        body = {"id": report.pk, "rows": report.rows, "replaced": report.replaced}
        return Response(UsageReportOutput(body).data, status=status.HTTP_201_CREATED)


class TrueUpCalculatorApi(APIView):
    """Price over-use the way a breach case does: the seat credit run the other way."""

    @extend_schema(
        operation_id="breaches_true_up_calculator",
        request=TrueUpInput,
        responses={200: TrueUpOutput},
        examples=[OpenApiExample("Over-use", value=TRUE_UP_EXAMPLE, request_only=True)],
    )
    def post(self, request):
        body = TrueUpInput(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(TrueUpOutput(services.true_up_calculator(body.validated_data)).data)


class BreachDetectApi(APIView):
    """Run detection now over every entitlement (managers): the nightly job, on demand."""

    @extend_schema(operation_id="breaches_detect", request=None, responses={200: DetectOutput})
    def post(self, request):
        from .services.detection import breach_detect

        found = breach_detect(
            actor=request.user, on=timezone.localdate(), reason="Detection run on demand"
        )
        return Response(DetectOutput({"opened": found.opened, "updated": found.updated}).data)
