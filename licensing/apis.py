from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from . import access, selectors, services
from .filters import ContractFilter, CustomerFilter, EntitlementFilter, PlanFilter
from .models import Bundle, Plan, Product
from .roles import is_staff_role
from .serializers import (
    BundleSerializer,
    ContractCreateSerializer,
    ContractSerializer,
    CustomerContractSerializer,
    CustomerSerializer,
    EntitlementCreateSerializer,
    EntitlementSerializer,
    PlanSerializer,
    ProductSerializer,
    TransitionSerializer,
)

CONTRACT_PATH = "(?P<transition>" + "|".join(services.CONTRACT_TRANSITIONS) + ")"
ENTITLEMENT_PATH = "(?P<transition>" + "|".join(services.ENTITLEMENT_TRANSITIONS) + ")"


def _transition_schema(names: tuple[str, ...], noun: str, output):
    # Named explicitly: the generated id collides with create, and the path regex would be
    # published as an unanchored alternation instead of the list of transitions.
    return extend_schema(
        operation_id=f"{noun}s_transition",
        parameters=[OpenApiParameter("transition", str, OpenApiParameter.PATH, enum=names)],
        request=TransitionSerializer,
        responses={200: output},
    )


def _require(request, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied("Your role may not do this.")


class ReadCreateViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    create_perm: str = ""

    def create(self, request, *args, **kwargs):
        _require(request, self.create_perm)
        return super().create(request, *args, **kwargs)


class CustomerViewSet(ReadCreateViewSet):
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    create_perm = "licensing.add_customer"

    def get_queryset(self) -> QuerySet:
        return access.customers_for_user(self.request.user).order_by("name")

    def perform_create(self, serializer):
        serializer.instance = services.customer_create(
            actor=self.request.user, **serializer.validated_data
        )


class ProductViewSet(ReadCreateViewSet):
    """The catalogue is visible to every signed-in user; staff with the permission add to it."""

    queryset = Product.objects.order_by("name")
    serializer_class = ProductSerializer
    filterset_fields = ["sku"]
    create_perm = "licensing.add_product"

    def perform_create(self, serializer):
        serializer.instance = services.product_create(
            actor=self.request.user, **serializer.validated_data
        )


class PlanViewSet(ReadCreateViewSet):
    queryset = Plan.objects.order_by("name")
    serializer_class = PlanSerializer
    filterset_class = PlanFilter
    create_perm = "licensing.add_plan"

    def perform_create(self, serializer):
        serializer.instance = services.plan_create(
            actor=self.request.user, **serializer.validated_data
        )


class BundleViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Bundle.objects.prefetch_related("items__product").order_by("name")
    serializer_class = BundleSerializer


class ContractViewSet(ReadCreateViewSet):
    serializer_class = ContractSerializer
    filterset_class = ContractFilter
    create_perm = "licensing.add_contract"

    def get_serializer_class(self):
        if getattr(self, "swagger_fake_view", False) or is_staff_role(self.request.user):
            return ContractSerializer
        return CustomerContractSerializer

    def get_queryset(self) -> QuerySet:
        base = access.contracts_for_user(self.request.user)
        # The selector's counts add a GROUP BY, which drops Meta.ordering: order explicitly so
        # pages are stable. An `ordering` query parameter still overrides this.
        return (
            selectors.contract_list(base=base)
            .prefetch_related("lines__plan")
            .order_by("-term_start", "number")
        )

    @extend_schema(request=ContractCreateSerializer, responses={201: ContractSerializer})
    def create(self, request, *args, **kwargs):
        _require(request, self.create_perm)
        data = ContractCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        lines = [services.LineSpec(**line) for line in values.pop("lines")]
        contract = services.contract_create(actor=request.user, lines=lines, **values)
        out = ContractSerializer(contract, context=self.get_serializer_context())
        return Response(out.data, status=status.HTTP_201_CREATED)

    @_transition_schema(services.CONTRACT_TRANSITIONS, "contract", ContractSerializer)
    @action(detail=True, methods=["post"], url_path=CONTRACT_PATH)
    def transition(self, request, pk=None, transition=None):
        contract = access.contract_for_user(user=request.user, pk=pk, write=True)
        if transition == "terminate":
            return self._terminate(request, contract)
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        contract = services.contract_transition(
            actor=request.user,
            contract_id=contract.pk,
            transition=transition,
            reason=body.validated_data["reason"],
            expected_version=body.validated_data.get("version"),
        )
        return Response(ContractSerializer(contract, context={"request": request}).data)

    def _terminate(self, request, contract):
        """Termination takes an effective date and starts the contract's deprovisioning run."""
        from .deprovisioning.serializers import TerminateSerializer
        from .deprovisioning.services import contract_terminate

        body = TerminateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        contract, run = contract_terminate(
            actor=request.user, contract_id=contract.pk, reason=body.validated_data["reason"],
            effective_date=body.validated_data.get("effective_date"), on=timezone.localdate(),
            expected_version=body.validated_data.get("version"),
        )  # fmt: skip
        contract.refresh_from_db()
        data = ContractSerializer(contract, context={"request": request}).data
        return Response({**data, "deprovisioning_run": run.pk})


class EntitlementViewSet(ReadCreateViewSet):
    serializer_class = EntitlementSerializer
    filterset_class = EntitlementFilter
    create_perm = "licensing.add_entitlement"

    def get_queryset(self) -> QuerySet:
        return selectors.entitlement_list(base=access.entitlements_for_user(self.request.user))

    @extend_schema(request=EntitlementCreateSerializer, responses={201: EntitlementSerializer})
    def create(self, request, *args, **kwargs):
        _require(request, self.create_perm)
        data = EntitlementCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entitlement = services.entitlement_create(actor=request.user, **data.validated_data)
        out = EntitlementSerializer(entitlement, context=self.get_serializer_context())
        return Response(out.data, status=status.HTTP_201_CREATED)

    @_transition_schema(services.ENTITLEMENT_TRANSITIONS, "entitlement", EntitlementSerializer)
    @action(detail=True, methods=["post"], url_path=ENTITLEMENT_PATH)
    def transition(self, request, pk=None, transition=None):
        entitlement = access.entitlement_for_user(user=request.user, pk=pk, write=True)
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        entitlement = services.entitlement_transition(
            actor=request.user,
            entitlement_id=entitlement.pk,
            transition=transition,
            reason=body.validated_data["reason"],
            expected_version=body.validated_data.get("version"),
        )
        return Response(EntitlementSerializer(entitlement, context={"request": request}).data)
