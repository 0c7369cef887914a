"""The public face of the Merkle log: exports, signed heads and proofs, for auditors and admins."""

from django.http import Http404, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from . import exports, serializers, tree
from .models import SignedTreeHead
from .services import export_request


class IsAuditReader(BasePermission):
    message = "The audit log is for auditors and administrators."

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("audit.view_auditevent"))


class JSONOnly(BaseContentNegotiation):
    # `?format=` names the export's file format here, not one of DRF's renderers.
    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None


class AuditAPIView(APIView):
    permission_classes = [IsAuditReader]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONOnly


def _query(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _answer(call):
    try:
        return call()
    except tree.TreeError as error:
        raise ValidationError({error.field: [str(error)]}) from None


class EventExportView(AuditAPIView):
    @extend_schema(
        operation_id="audit_events_export",
        parameters=[serializers.ExportQuerySerializer],
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(
                OpenApiTypes.STR,
                description='One line per event: {"seq": N, "content": <the hashed object>}',
            ),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR, description="One column per content field"
            ),
        },
    )
    def get(self, request):
        params = dict(_query(serializers.ExportQuerySerializer, request))
        fmt = params.pop("format")
        # The export is itself an event: who exported what, with which filter.
        export_request(actor=request.user, fmt=fmt, filter=params, stream=True, via="api")
        events = exports.export_events(**params)
        if fmt == "csv":
            lines, content_type = exports.csv_lines(events), "text/csv; charset=utf-8"
        else:
            lines, content_type = exports.jsonl_lines(events), "application/x-ndjson"
        response = StreamingHttpResponse(lines, content_type=content_type)
        stamp = timezone.localdate().isoformat()
        response["Content-Disposition"] = f'attachment; filename="audit-events-{stamp}.{fmt}"'
        return response


def _head(head: SignedTreeHead) -> dict:
    return serializers.TreeHeadSerializer(head).data


class TreeHeadView(AuditAPIView):
    @extend_schema(
        operation_id="audit_tree_head",
        parameters=[serializers.TreeHeadQuerySerializer],
        responses={200: serializers.TreeHeadSerializer, 404: OpenApiResponse(description="none")},
    )
    def get(self, request):
        size = _query(serializers.TreeHeadQuerySerializer, request).get("tree_size")
        if size is None:
            return Response(_head(tree.tree_head_latest()))
        head = SignedTreeHead.objects.filter(tree_size=size).first()
        if head is None:
            raise Http404(f"No tree head was signed for {size} events.")
        return Response(_head(head))


class InclusionProofView(AuditAPIView):
    @extend_schema(
        operation_id="audit_inclusion_proof",
        parameters=[serializers.InclusionQuerySerializer],
        responses={200: serializers.InclusionProofSerializer},
    )
    def get(self, request):
        params = _query(serializers.InclusionQuerySerializer, request)
        seq, size = params["seq"], params["tree_size"]
        path = _answer(lambda: tree.inclusion_proof(seq=seq, size=size))
        data = {"leaf_index": seq - 1, "tree_size": size, "audit_path": [h.hex() for h in path]}
        return Response(serializers.InclusionProofSerializer(data).data)


class ConsistencyProofView(AuditAPIView):
    @extend_schema(
        operation_id="audit_consistency_proof",
        parameters=[serializers.ConsistencyQuerySerializer],
        responses={200: serializers.ConsistencyProofSerializer},
    )
    def get(self, request):
        params = _query(serializers.ConsistencyQuerySerializer, request)
        first, second = params["first"], params["second"]
        proof = _answer(lambda: tree.consistency_proof(first=first, second=second))
        data = {"first": first, "second": second, "proof": [h.hex() for h in proof]}
        return Response(serializers.ConsistencyProofSerializer(data).data)
