"""Deprovisioning's API. Customers read none of it, not even of their own contracts (404)."""

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import access
from ..models import ConnectedSystem
from ..roles import is_staff_role
from . import reconciliation, selectors, services
from .models import DeprovisioningHold, DeprovisioningRun
from .serializers import (
    AssignmentCreateSerializer,
    AssignmentSerializer,
    ConnectedSystemSerializer,
    HoldCreateSerializer,
    ReasonSerializer,
    ReconciliationSerializer,
    RunSerializer,
)


def _staff_only(user) -> None:
    if not is_staff_role(user):
        raise Http404("Not found.")


class ConnectedSystemViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):  # fmt: skip
    serializer_class = ConnectedSystemSerializer

    def get_queryset(self):
        if not is_staff_role(self.request.user):
            return ConnectedSystem.objects.none()
        return selectors.systems()

    def list(self, request, *args, **kwargs):
        _staff_only(request.user)
        return super().list(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        _staff_only(request.user)
        if not request.user.is_superuser:
            raise PermissionDenied("Only an administrator connects systems.")
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.connected_system_create(
            actor=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=None, responses={200: ReconciliationSerializer})
    @action(detail=True, methods=["post"])
    def reconcile(self, request, pk=None):
        """Compare every holder with what the system reports; repair what is safe to."""
        _staff_only(request.user)
        system = self.get_object()
        done = reconciliation.reconcile_system(
            actor=request.user, system_id=system.pk, on=timezone.localdate()
        )
        return Response(ReconciliationSerializer(done).data)


class EntitlementAssignmentsView(APIView):
    """`GET` lists an entitlement's holders at connected systems; `POST` assigns one."""

    def _entitlement(self, request, pk):
        _staff_only(request.user)
        return access.entitlement_for_user(user=request.user, pk=pk)

    @extend_schema(responses={200: AssignmentSerializer(many=True)})
    def get(self, request, pk):
        entitlement = self._entitlement(request, pk)
        return Response(AssignmentSerializer(selectors.assignments_of(entitlement), many=True).data)

    @extend_schema(request=AssignmentCreateSerializer, responses={201: AssignmentSerializer})
    def post(self, request, pk):
        entitlement = self._entitlement(request, pk)
        body = AssignmentCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        assignment = services.assignment_create(
            actor=request.user, entitlement=entitlement, **body.validated_data
        )
        return Response(AssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED)


class RunViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = RunSerializer

    def get_queryset(self):
        if not is_staff_role(self.request.user):
            return DeprovisioningRun.objects.none()
        return DeprovisioningRun.objects.all()

    def get_object(self):
        try:
            return selectors.run_detail(base=self.get_queryset(), pk=self.kwargs["pk"])
        except (DeprovisioningRun.DoesNotExist, ValueError):
            raise Http404("No such run.") from None

    @extend_schema(request=ReasonSerializer, responses={200: RunSerializer})
    @action(detail=True, methods=["post"])
    def execute(self, request, pk=None):
        run = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.run_execute(
            actor=request.user, run_id=run.pk, reason=body.validated_data["reason"],
            on=timezone.localdate(),
        )  # fmt: skip
        return Response(RunSerializer(self.get_object()).data)

    @extend_schema(request=ReasonSerializer, responses={202: RunSerializer})
    @action(detail=True, methods=["post"])
    def rollback(self, request, pk=None):
        """Ask for the run to be undone; somebody else approves."""
        run = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reconciliation.rollback_request(
            actor=request.user, run_id=run.pk, reason=body.validated_data["reason"]
        )
        return Response(RunSerializer(self.get_object()).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=ReasonSerializer, responses={200: RunSerializer})
    @action(detail=True, methods=["post"], url_path="rollback/approve")
    def rollback_approve(self, request, pk=None):
        """Restore what the run took, everywhere; never by the person who asked."""
        run = self.get_object()
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reconciliation.rollback_approve(
            actor=request.user, run_id=run.pk, reason=body.validated_data["reason"],
            on=timezone.localdate(),
        )  # fmt: skip
        return Response(RunSerializer(self.get_object()).data)


class ContractHoldsView(APIView):
    @extend_schema(request=HoldCreateSerializer, responses={201: None})
    def post(self, request, pk):
        _staff_only(request.user)
        contract = access.contract_for_user(user=request.user, pk=pk)
        body = HoldCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        hold = services.hold_place(
            actor=request.user, contract=contract, on=timezone.localdate(), **body.validated_data
        )
        return Response({"id": hold.pk}, status=status.HTTP_201_CREATED)


class HoldLiftView(APIView):
    @extend_schema(request=ReasonSerializer, responses={200: None})
    def post(self, request, pk):
        _staff_only(request.user)
        if not DeprovisioningHold.objects.filter(pk=pk).exists():
            raise Http404("No such hold.")
        body = ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        hold = services.hold_lift(
            actor=request.user,
            hold_id=int(pk),
            reason=body.validated_data["reason"],
            on=timezone.localdate(),
        )
        return Response({"id": hold.pk, "lifted_at": hold.lifted_at})
