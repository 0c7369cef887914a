"""The credits API: the calculator, the published policy, change requests and their approval.

Views parse with an input serializer, call a service and answer with an output serializer. Who
may request or decide is the services' business: a refusal is a DomainError that
config/exceptions.py maps to 403 or 409.
"""

from django.db.models import Prefetch, QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from licensing import access as licensing_access
from licensing.roles import is_staff_role

from . import access, selectors, services
from .filters import ChangeRequestApiFilter, CreditApiFilter, DisputeApiFilter
from .models import ApprovalStep, ChangeLine, ExchangeRate
from .serializers import (
    CALCULATOR_EXAMPLE,
    CalculatorInput,
    CalculatorOutput,
    ChangeRequestInput,
    ChangeRequestSerializer,
    CreditPolicySerializer,
    CreditSerializer,
    CustomerChangeRequestSerializer,
    CustomerCreditSerializer,
    CustomerDisputeSerializer,
    CustomerStatementSerializer,
    DecisionInput,
    DisputeRejectInput,
    DisputeSerializer,
    DisputeUpholdInput,
    ExchangeRateSerializer,
    ReasonedDecisionInput,
    ResubmitInput,
    StatementSerializer,
)
from .statements import customer_statement


class CalculatorApi(APIView):
    """Price a downgrade, pause or termination under the credit policy in force today."""

    @extend_schema(
        request=CalculatorInput,
        responses={200: CalculatorOutput},
        examples=[OpenApiExample("Downgrade", value=CALCULATOR_EXAMPLE, request_only=True)],
    )
    def post(self, request):
        body = CalculatorInput(data=request.data)
        body.is_valid(raise_exception=True)
        policy = selectors.credit_policy_in_force(on=timezone.localdate())
        answer = services.calculator_quote(body.validated_data, policy=policy)
        return Response(CalculatorOutput(answer).data)


class CreditPolicyViewSet(viewsets.ReadOnlyModelViewSet):
    """Published versions of the credit policy, newest first, readable by every signed-in user."""

    serializer_class = CreditPolicySerializer
    lookup_field = "number"
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet:
        return selectors.published_policies()

    @action(detail=False)
    def current(self, request):
        """The version in force today."""
        policy = selectors.credit_policy_in_force(on=timezone.localdate())
        return Response(self.get_serializer(policy).data)


def _for_audience(view, staff, customer):
    """One audience, one serializer: staff read names and reasons, customers never do."""
    if getattr(view, "swagger_fake_view", False) or is_staff_role(view.request.user):
        return staff
    return customer


# What the output serializers read, fetched in a fixed number of queries however many rows.


def _steps(path: str) -> Prefetch:
    steps = ApprovalStep.objects.select_related("decided_by").order_by("order")
    return Prefetch(path, queryset=steps)


def _credit_list(base: QuerySet) -> QuerySet:
    return (
        base.select_related("customer", "contract", "policy", "calculated_by")
        .prefetch_related(_steps("steps"))
        .order_by("-created_at", "-id")
    )


def _change_request_list(base: QuerySet) -> QuerySet:
    return (
        base.select_related(
            "contract", "customer", "requested_by", "policy", "credit__customer",
            "credit__contract", "credit__policy", "credit__calculated_by",
        )
        .prefetch_related(
            Prefetch("lines", queryset=ChangeLine.objects.order_by("id")),
            _steps("credit__steps"),
        )
        .order_by("-requested_at", "-id")
    )  # fmt: skip


class ChangeRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    """Downgrades, pauses and terminations with their frozen quotes and the credits they opened."""

    serializer_class = ChangeRequestSerializer
    filterset_class = ChangeRequestApiFilter

    def get_serializer_class(self):
        return _for_audience(self, ChangeRequestSerializer, CustomerChangeRequestSerializer)

    def get_queryset(self) -> QuerySet:
        return _change_request_list(access.change_requests_for_user(self.request.user))

    @extend_schema(request=ChangeRequestInput, responses={201: ChangeRequestSerializer})
    def create(self, request, *args, **kwargs):
        body = ChangeRequestInput(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        change = services.change_request_create(
            actor=request.user,
            contract_id=values.pop("contract").pk,
            on=timezone.localdate(),
            **values,
        )
        out = self.get_serializer(self.get_queryset().get(pk=change.pk))
        return Response(out.data, status=status.HTTP_201_CREATED)


class CreditViewSet(viewsets.ReadOnlyModelViewSet):
    """Credits with their approval steps; staff see all, a customer's users their own."""

    serializer_class = CreditSerializer
    filterset_class = CreditApiFilter

    def get_serializer_class(self):
        return _for_audience(self, CreditSerializer, CustomerCreditSerializer)

    def get_queryset(self) -> QuerySet:
        return _credit_list(access.credits_for_user(self.request.user))

    def _decide(self, request, pk, decide, body_class):
        credit = access.credit_for_user(user=request.user, pk=pk)
        body = body_class(data=request.data)
        body.is_valid(raise_exception=True)
        credit = decide(
            actor=request.user,
            credit_id=credit.pk,
            reason=body.validated_data["reason"],
            expected_version=body.validated_data.get("version"),
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=credit.pk)).data)

    @extend_schema(request=DecisionInput, responses={200: CreditSerializer})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve the step awaiting a decision; the last approval issues the credit."""
        return self._decide(request, pk, services.credit_approve, DecisionInput)

    @extend_schema(request=ReasonedDecisionInput, responses={200: CreditSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, pk, services.credit_reject, ReasonedDecisionInput)

    @extend_schema(request=ReasonedDecisionInput, responses={200: CreditSerializer})
    @action(detail=True, methods=["post"], url_path="send-back")
    def send_back(self, request, pk=None):
        """Return the credit to its requester, who may resubmit it."""
        return self._decide(request, pk, services.credit_send_back, ReasonedDecisionInput)

    @extend_schema(request=ResubmitInput, responses={200: CreditSerializer})
    @action(detail=True, methods=["post"])
    def resubmit(self, request, pk=None):
        """The requester resubmits a sent-back credit, its form and inputs corrected if need be:
        corrected inputs price the credit again."""
        credit = access.credit_for_user(user=request.user, pk=pk)
        body = ResubmitInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        services.credit_resubmit(
            actor=request.user, credit_id=credit.pk, reason=data["reason"],
            form=data.get("form"), corrections=data.get("corrections"),
            expected_version=data.get("version"),
        )  # fmt: skip
        return Response(self.get_serializer(self.get_queryset().get(pk=credit.pk)).data)

    @extend_schema(request=ReasonedDecisionInput, responses={200: CreditSerializer})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        """The requester withdraws a sent-back credit; its contract line is free again."""
        return self._decide(request, pk, services.credit_withdraw, ReasonedDecisionInput)


class DisputeViewSet(viewsets.ReadOnlyModelViewSet):
    """Disputes of issued credits; finance upholds or rejects them."""

    serializer_class = DisputeSerializer
    filterset_class = DisputeApiFilter

    def get_serializer_class(self):
        return _for_audience(self, DisputeSerializer, CustomerDisputeSerializer)

    def get_queryset(self) -> QuerySet:
        return (
            access.disputes_for_user(self.request.user)
            .select_related("credit", "raised_by", "resolved_by")
            .order_by("due_on", "pk")
        )

    def _answer(self, dispute):
        return Response(self.get_serializer(self.get_queryset().get(pk=dispute.pk)).data)

    @extend_schema(request=DisputeUpholdInput, responses={200: DisputeSerializer})
    @action(detail=True, methods=["post"])
    def uphold(self, request, pk=None):
        """Uphold: a corrective credit priced from `corrections` (through approval), or a
        reversal of the credit."""
        dispute = access.dispute_for_user(user=request.user, pk=pk)
        body = DisputeUpholdInput(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        dispute = services.dispute_uphold(
            actor=request.user, dispute_id=dispute.pk, resolution=data["resolution"],
            outcome=data["outcome"], corrections=[dict(c) for c in data.get("corrections", [])],
            on=timezone.localdate(),
        )  # fmt: skip
        return self._answer(dispute)

    @extend_schema(request=DisputeRejectInput, responses={200: DisputeSerializer})
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        dispute = access.dispute_for_user(user=request.user, pk=pk)
        body = DisputeRejectInput(data=request.data)
        body.is_valid(raise_exception=True)
        dispute = services.dispute_reject(
            actor=request.user, dispute_id=dispute.pk, reason=body.validated_data["reason"]
        )
        return self._answer(dispute)


class ExchangeRateViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Finance's dated exchange rates, kept with their history; staff read them."""

    serializer_class = ExchangeRateSerializer
    filterset_fields = ["currency", "base"]

    def get_queryset(self) -> QuerySet:
        if not is_staff_role(self.request.user):
            return ExchangeRate.objects.none()
        return ExchangeRate.objects.select_related("created_by").order_by(
            "currency", "base", "-valid_from"
        )

    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        row = services.exchange_rate_add(actor=request.user, **body.validated_data)
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)


class CustomerStatementApi(APIView):
    """A customer's statement: invoices, credit notes, discounts, deferrals and the balance per
    currency. Staff read any customer's; a customer's users their own; another's is a 404."""

    @extend_schema(responses={200: StatementSerializer})
    def get(self, request, pk: int):
        customer = licensing_access._get(
            licensing_access.customers_for_user(request.user), pk, "customer"
        )
        statement = customer_statement(customer=customer, on=timezone.localdate())
        serializer = _for_audience(self, StatementSerializer, CustomerStatementSerializer)
        return Response(serializer(statement, context={"request": request}).data)
